import type { WireError } from '../shared/errors.ts';
import { clampRetryAfterMs, MAX_RETRY_AFTER_MS } from '../shared/limits.ts';
import { Backoff, type BackoffPolicy } from './backoff.ts';
import { NotConnectedError } from './request-tracker.ts';
import type { Timers } from './timers.ts';

/** An ack that either succeeded or carries a refusal. */
export type RefusableAck = { ok: true } | { ok: false; error: WireError };

/**
 * Waits between `internal` answers that name no wait: about a second, doubling up to the
 * longest wait a refusal may ask for. Jitter keeps the tabs a failing server refused at
 * the same moment from all asking again at the same moment.
 */
export const INTERNAL_RETRY_BACKOFF: BackoffPolicy = {
  minMs: 1_000,
  maxMs: MAX_RETRY_AFTER_MS,
  factor: 2,
  jitter: 0.25,
};

export interface PatienceOptions {
  timers: Timers;
  /** Whether the link is still up: a wait that outlives it ends with NotConnectedError. */
  connected(): boolean;
  /**
   * Longest total wait; a refusal that asks for more is answered as it is. Something the
   * user waits on (a new room) gives up where a background sync (join, history) would not.
   */
  maxWaitMs?: number;
}

/**
 * Sends a request, and while it is refused for a passing reason, waits and asks again: a
 * `rate_limited` answer as long as it asks, an `internal` one (the server failed, or sent
 * a code this build does not know) as long as it asks or else on a growing backoff. No
 * wait is shorter than MIN_RETRY_AFTER_MS, so no answer can start a hot loop. Resolves
 * with the first answer that is neither, or with one whose wait would pass `maxWaitMs`;
 * rejects when the link drops meanwhile (the next connect starts over).
 */
export async function askPatiently<T extends RefusableAck>(
  ask: () => Promise<T>,
  options: PatienceOptions,
): Promise<T> {
  const { timers, maxWaitMs = Number.POSITIVE_INFINITY } = options;
  const backoff = new Backoff(INTERNAL_RETRY_BACKOFF);
  let waitedMs = 0;
  for (;;) {
    const ack = await ask();
    if (ack.ok) return ack;
    const { code, retryAfterMs } = ack.error;
    if (code !== 'rate_limited' && code !== 'internal') return ack;
    const asked = code === 'internal' ? (retryAfterMs ?? backoff.duration()) : (retryAfterMs ?? 0);
    const waitMs = clampRetryAfterMs(asked);
    if (waitedMs + waitMs > maxWaitMs) return ack;
    await new Promise<void>((resolve) => timers.setTimeout(resolve, waitMs));
    waitedMs += waitMs;
    if (!options.connected()) throw new NotConnectedError('the link dropped during a wait');
  }
}
