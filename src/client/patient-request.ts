import type { WireError } from '../shared/errors.ts';
import { clampRetryAfterMs } from '../shared/limits.ts';
import { NotConnectedError } from './request-tracker.ts';
import type { Timers } from './timers.ts';

/** An ack that either succeeded or carries a refusal. */
export type RefusableAck = { ok: true } | { ok: false; error: WireError };

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
 * Sends a request, and while it is answered `rate_limited`, waits as long as the answer
 * asks (never less than MIN_RETRY_AFTER_MS, so no answer can start a hot loop) and asks
 * again. Resolves with the first answer that is not a rate limit, or with one whose wait
 * would pass `maxWaitMs`; rejects when the link drops meanwhile (the next connect starts over).
 */
export async function askPatiently<T extends RefusableAck>(
  ask: () => Promise<T>,
  options: PatienceOptions,
): Promise<T> {
  const { timers, maxWaitMs = Number.POSITIVE_INFINITY } = options;
  let waitedMs = 0;
  for (;;) {
    const ack = await ask();
    if (ack.ok || ack.error.code !== 'rate_limited') return ack;
    const waitMs = clampRetryAfterMs(ack.error.retryAfterMs ?? 0);
    if (waitedMs + waitMs > maxWaitMs) return ack;
    await new Promise<void>((resolve) => timers.setTimeout(resolve, waitMs));
    waitedMs += waitMs;
    if (!options.connected()) throw new NotConnectedError('the link dropped during a wait');
  }
}
