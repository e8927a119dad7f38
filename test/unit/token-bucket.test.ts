import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/server/token-bucket.ts';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('TokenBuckets', () => {
  it('grants a prefix of a request and asks for the rest after a wait', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ capacity: 10, refillPerMinute: 60 }, clock.now);
    expect(buckets.take('u', 12)).toEqual({ granted: 10, retryAfterMs: 1_000 });
    clock.advance(1_000);
    expect(buckets.take('u', 1)).toEqual({ granted: 1, retryAfterMs: 0 });
  });

  it.each([
    ['a fast refill', { capacity: 10, refillPerMinute: 600_000 }, MIN_RETRY_AFTER_MS],
    ['a slow refill', { capacity: 100, refillPerMinute: 1 }, MAX_RETRY_AFTER_MS],
  ])('keeps retryAfterMs between MIN_RETRY_AFTER_MS and a minute with %s', (_name, limit, wait) => {
    const buckets = new TokenBuckets(limit, manualClock().now);
    expect(buckets.take('u', limit.capacity + 50).retryAfterMs).toBe(wait);
  });

  it.each([
    ['no refill', { capacity: 10, refillPerMinute: 0 }],
    ['no burst', { capacity: 0, refillPerMinute: 10 }],
    ['a refill that is not a number', { capacity: 10, refillPerMinute: Number.NaN }],
  ])('refuses a limit with %s, which would hold senders back for good', (_name, limit) => {
    expect(() => new TokenBuckets(limit)).toThrow(RangeError);
  });

  it('forgets buckets that have refilled, so one-off keys do not pile up', () => {
    const clock = manualClock();
    const buckets = new TokenBuckets({ capacity: 5, refillPerMinute: 60 }, clock.now);
    for (let key = 0; key < 100_000; key++) {
      buckets.take(`address ${key}`, 1);
      // One new address every 10 ms: each bucket is full again 1 s after its one use.
      clock.advance(10);
    }
    // Only the keys seen in the last second (about 100) can still hold a partial bucket.
    expect(buckets.size).toBeLessThanOrEqual(2_048);
  });

  it('never holds more than maxKeys buckets, even when every key is still in use', () => {
    const buckets = new TokenBuckets({ capacity: 5, refillPerMinute: 1 }, manualClock().now, {
      maxKeys: 1_000,
    });
    let largest = 0;
    for (let key = 0; key < 20_000; key++) {
      buckets.take(`address ${key}`, 1);
      largest = Math.max(largest, buckets.size);
    }
    expect(largest).toBeLessThanOrEqual(1_000);
  });
});
