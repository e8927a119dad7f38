import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { askPatiently, INTERNAL_RETRY_BACKOFF } from '../../src/client/patient-request.ts';
import { NotConnectedError } from '../../src/client/request-tracker.ts';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';
import type { WireError } from '../../src/shared/errors.ts';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import { joinAckSchema } from '../../src/shared/schemas.ts';

type Answer = { ok: true } | { ok: false; error: WireError };

const OK: Answer = { ok: true };
const limited = (retryAfterMs?: number): Answer => ({
  ok: false,
  error: { code: 'rate_limited', message: 'too many', retryAfterMs },
});

const failed = (retryAfterMs?: number): Answer => ({
  ok: false,
  error: { code: 'internal', message: 'the server failed; retrying is safe', retryAfterMs },
});

/** The gaps between consecutive asks. */
function gaps(askedAt: readonly number[]): number[] {
  return askedAt.slice(1).map((at, index) => at - (askedAt[index] as number));
}

/** A request answered from a script, one answer per call, recording when it was asked. */
function scripted(...answers: Answer[]) {
  const askedAt: number[] = [];
  const ask = async () => {
    askedAt.push(Date.now());
    return answers.shift() ?? OK;
  };
  return { ask, askedAt };
}

describe('askPatiently', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('asks again after the wait each rate_limited answer asks for', async () => {
    const { ask, askedAt } = scripted(limited(700), limited(1_200), OK);
    const answer = askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => true });
    await vi.runAllTimersAsync();
    expect(await answer).toEqual(OK);
    expect(askedAt).toEqual([0, 700, 1_900]);
  });

  it('never asks again sooner than MIN_RETRY_AFTER_MS, whatever the answer says', async () => {
    const { ask, askedAt } = scripted(limited(0), limited(), OK);
    const answer = askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => true });
    await vi.runAllTimersAsync();
    await answer;
    expect(askedAt).toEqual([0, MIN_RETRY_AFTER_MS, 2 * MIN_RETRY_AFTER_MS]);
  });

  it('answers a refusal whose wait would pass maxWaitMs as it is, without waiting', async () => {
    const { ask, askedAt } = scripted(limited(60_000));
    const answer = await askPatiently(ask, {
      timers: SYSTEM_TIMERS,
      connected: () => true,
      maxWaitMs: 10_000,
    });
    expect(answer).toEqual(limited(60_000));
    expect(askedAt).toEqual([0]);
  });

  it('asks again after the wait an internal answer asks for, clamped like a rate limit', async () => {
    const { ask, askedAt } = scripted(failed(25), failed(900), failed(3_600_000), OK);
    const answer = askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => true });
    await vi.runAllTimersAsync();
    expect(await answer).toEqual(OK);
    expect(gaps(askedAt)).toEqual([MIN_RETRY_AFTER_MS, 900, MAX_RETRY_AFTER_MS]);
  });

  it('backs off from about a second up to the ceiling while internal answers name no wait', async () => {
    const { ask, askedAt } = scripted(...Array.from({ length: 9 }, () => failed()), OK);
    const answer = askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => true });
    await vi.runAllTimersAsync();
    expect(await answer).toEqual(OK);
    const waits = gaps(askedAt);
    const { minMs, factor, jitter } = INTERNAL_RETRY_BACKOFF;
    expect(minMs).toBe(1_000);
    for (const [index, wait] of waits.entries()) {
      // 1 s, 2 s, 4 s, ... up to the ceiling, each less at most its jitter share.
      const base = Math.min(MAX_RETRY_AFTER_MS, minMs * factor ** index);
      expect(wait).toBeGreaterThanOrEqual(Math.max(MIN_RETRY_AFTER_MS, base * (1 - jitter)));
      expect(wait).toBeLessThanOrEqual(base);
    }
    expect(waits.at(-1)).toBeGreaterThan(MAX_RETRY_AFTER_MS / 2);
  });

  it('waits out an error code this build does not know, which the schema reads as internal', async () => {
    const unknown = joinAckSchema.parse({
      ok: false,
      error: { code: 'store_busy', message: 'a newer server', retryAfterMs: 800 },
    });
    const joined = joinAckSchema.parse({
      ok: true,
      room: 'lobby',
      latestSeq: 3,
      name: 'lobby',
      receipts: { delivered: 3, read: 3, othersDelivered: 3, othersRead: 3 },
    });
    const answers = [unknown, joined];
    const askedAt: number[] = [];
    const answer = askPatiently(
      async () => {
        askedAt.push(Date.now());
        return answers.shift() ?? joined;
      },
      { timers: SYSTEM_TIMERS, connected: () => true },
    );
    await vi.runAllTimersAsync();
    expect(await answer).toEqual(joined);
    expect(askedAt).toEqual([0, 800]);
  });

  it('answers an internal refusal as it is once the waits would pass maxWaitMs', async () => {
    const { ask, askedAt } = scripted(failed(4_000), failed(4_000), failed(4_000), OK);
    const answer = askPatiently(ask, {
      timers: SYSTEM_TIMERS,
      connected: () => true,
      maxWaitMs: 10_000,
    });
    await vi.runAllTimersAsync();
    expect(await answer).toEqual(failed(4_000));
    expect(askedAt).toEqual([0, 4_000, 8_000]);
  });

  it('passes any other refusal through at once', async () => {
    const forbidden: Answer = { ok: false, error: { code: 'forbidden', message: 'private' } };
    const { ask, askedAt } = scripted(forbidden);
    expect(await askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => true })).toBe(
      forbidden,
    );
    expect(askedAt).toEqual([0]);
  });

  it('gives up with NotConnectedError when the link dropped during the wait', async () => {
    let connected = true;
    const { ask, askedAt } = scripted(limited(1_000));
    const answer = askPatiently(ask, { timers: SYSTEM_TIMERS, connected: () => connected });
    const settled = expect(answer).rejects.toBeInstanceOf(NotConnectedError);
    connected = false;
    await vi.runAllTimersAsync();
    await settled;
    expect(askedAt).toEqual([0]);
  });
});
