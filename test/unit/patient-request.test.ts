import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { askPatiently } from '../../src/client/patient-request.ts';
import { NotConnectedError } from '../../src/client/request-tracker.ts';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';
import type { WireError } from '../../src/shared/errors.ts';
import { MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';

type Answer = { ok: true } | { ok: false; error: WireError };

const OK: Answer = { ok: true };
const limited = (retryAfterMs?: number): Answer => ({
  ok: false,
  error: { code: 'rate_limited', message: 'too many', retryAfterMs },
});

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
