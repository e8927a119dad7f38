// Requests waiting for their ack: when a silent link gives up on them, and when a busy
// one does not.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_WAIT_FACTOR,
  NotConnectedError,
  RequestTimeoutError,
  RequestTracker,
} from '../../src/client/request-tracker.ts';

const TIMEOUT_MS = 1_000;

interface Observed {
  state: 'pending' | 'resolved' | 'rejected';
  value?: unknown;
  error?: unknown;
  /** Answers the request, as the server's ack would. */
  answer(response: unknown): void;
}

/** Tracks one request and records how it ends, so no rejection goes unhandled. */
function track(tracker: RequestTracker, timeoutMs = TIMEOUT_MS): Observed {
  const observed: Observed = { state: 'pending', answer: () => {} };
  tracker
    .track(timeoutMs, (answer) => {
      observed.answer = answer;
    })
    .then(
      (value) => Object.assign(observed, { state: 'resolved', value }),
      (error: unknown) => Object.assign(observed, { state: 'rejected', error }),
    );
  return observed;
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('RequestTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the answer and leaves no timer behind', async () => {
    const tracker = new RequestTracker();
    const request = track(tracker);
    await advance(300);
    request.answer({ ok: true });
    await advance(0);
    expect(request).toMatchObject({ state: 'resolved', value: { ok: true } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('times out after timeoutMs of silence', async () => {
    const tracker = new RequestTracker();
    const request = track(tracker);
    await advance(TIMEOUT_MS - 1);
    expect(request.state).toBe('pending');
    await advance(1);
    expect(request.state).toBe('rejected');
    expect(request.error).toBeInstanceOf(RequestTimeoutError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stays alive past its timeout while acks for other requests keep coming (a busy slow link)', async () => {
    const tracker = new RequestTracker();
    const slow = track(tracker);
    const other = track(tracker);
    await advance(800);
    other.answer({ ok: true });
    await advance(TIMEOUT_MS - 1);
    expect(slow.state).toBe('pending');
    await advance(1);
    // Silent for TIMEOUT_MS since the last ack (at 800 ms): given up at 1,800 ms.
    expect(slow.state).toBe('rejected');
    expect(slow.error).toBeInstanceOf(RequestTimeoutError);
  });

  it('gives up after timeoutMs × MAX_WAIT_FACTOR however busy the link, and no later', async () => {
    const tracker = new RequestTracker();
    const slow = track(tracker);
    const giveUpAtMs = TIMEOUT_MS * MAX_WAIT_FACTOR;
    // Another request is answered every 100 ms: the link is never silent for long.
    for (let at = 100; at < giveUpAtMs; at += 100) {
      await advance(100);
      track(tracker).answer({ ok: true });
    }
    await advance(99);
    expect(slow.state).toBe('pending');
    await advance(1);
    expect(slow.state).toBe('rejected');
    expect(slow.error).toBeInstanceOf(RequestTimeoutError);
  });

  it('still gives up on a link that is never silent for long, within timeoutMs × (MAX_WAIT_FACTOR + 1)', async () => {
    const tracker = new RequestTracker();
    const slow = track(tracker);
    const latestMs = TIMEOUT_MS * (MAX_WAIT_FACTOR + 1);
    let elapsedMs = 0;
    while (slow.state === 'pending' && elapsedMs < 2 * latestMs) {
      await advance(100);
      elapsedMs += 100;
      track(tracker).answer({ ok: true });
    }
    expect(slow.state).toBe('rejected');
    expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS * MAX_WAIT_FACTOR);
    expect(elapsedMs).toBeLessThanOrEqual(latestMs);
  });

  it('rejects every pending request with NotConnectedError on failAll, and clears their timers', async () => {
    const tracker = new RequestTracker();
    const requests = [track(tracker), track(tracker), track(tracker, 50)];
    await advance(10);
    tracker.failAll('the link dropped');
    await advance(0);
    for (const request of requests) {
      expect(request.state).toBe('rejected');
      expect(request.error).toBeInstanceOf(NotConnectedError);
      expect((request.error as Error).message).toBe('the link dropped');
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each<[string, (tracker: RequestTracker) => Promise<void>, new (message: string) => Error]>([
    ['a timeout', () => advance(TIMEOUT_MS), RequestTimeoutError],
    ['failAll', async (tracker) => tracker.failAll('gone'), NotConnectedError],
  ])('ignores an answer that comes after %s', async (_after, end, error) => {
    const tracker = new RequestTracker();
    const request = track(tracker);
    await end(tracker);
    await advance(0);
    expect(() => request.answer({ ok: true })).not.toThrow();
    await advance(0);
    expect(request.state).toBe('rejected');
    expect(request.error).toBeInstanceOf(error);
  });

  it('counts a late answer as a sign of life for the requests still waiting', async () => {
    const tracker = new RequestTracker();
    const early = track(tracker, 500);
    await advance(400);
    const waiting = track(tracker);
    await advance(100);
    expect(early.state).toBe('rejected');
    await advance(800); // 1,300 ms: `waiting` has been silent for 900 of its 1,000 ms
    early.answer({ ok: true });
    await advance(TIMEOUT_MS - 1);
    expect(waiting.state).toBe('pending');
    await advance(1);
    expect(waiting.state).toBe('rejected');
  });
});
