import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateBucketsFactory, RateLimit } from '../../src/server/token-bucket.ts';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';

/** A refill so slow that no test lasts long enough to see a token of it. */
const NO_REFILL_TO_SPEAK_OF: RateLimit = { capacity: 10, refillPerMinute: 1 };

/**
 * The contract every RateBuckets keeps (see token-bucket.ts): TokenBuckets' rules, behind
 * promises. Each implementation's test file calls this with a factory for fresh, empty
 * buckets. Time is real (Redis keeps its own), so the limits are chosen to make it matter
 * only where a test says so.
 */
export function runRateBucketsContract(
  name: string,
  factory: () => Promise<{ buckets: RateBucketsFactory; dispose(): Promise<void> }>,
): void {
  describe(`RateBuckets contract: ${name}`, () => {
    let buckets: RateBucketsFactory;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ buckets, dispose } = await factory());
    });
    afterEach(async () => {
      await dispose();
    });

    it('grants a prefix of a request and asks for the rest when a tenth of the burst has refilled', async () => {
      const messages = buckets('messages', { capacity: 20, refillPerMinute: 60 });
      // Two tokens (a tenth of 20) at one a second.
      expect(await messages.take('alice', 25)).toEqual({ granted: 20, retryAfterMs: 2_000 });
    });

    it('grants nothing and asks for a wait once the bucket is empty', async () => {
      const messages = buckets('messages', NO_REFILL_TO_SPEAK_OF);
      await messages.take('alice', 10);
      const grant = await messages.take('alice', 1);
      expect(grant.granted).toBe(0);
      expect(grant.retryAfterMs).toBeGreaterThan(0);
    });

    it('gives refunded tokens to the next request', async () => {
      const messages = buckets('messages', NO_REFILL_TO_SPEAK_OF);
      await messages.take('alice', 10);
      await messages.refund('alice', 4);
      expect((await messages.take('alice', 10)).granted).toBe(4);
    });

    it('never fills a bucket past its burst on a refund', async () => {
      const messages = buckets('messages', NO_REFILL_TO_SPEAK_OF);
      await messages.take('alice', 2);
      await messages.refund('alice', 50);
      expect((await messages.take('alice', 50)).granted).toBe(10);
    });

    it('keeps the buckets of different keys apart', async () => {
      const messages = buckets('messages', NO_REFILL_TO_SPEAK_OF);
      await messages.take('alice', 10);
      expect((await messages.take('bob', 10)).granted).toBe(10);
    });

    it('keeps the sets of different names apart', async () => {
      await buckets('messages', NO_REFILL_TO_SPEAK_OF).take('127.0.0.1', 10);
      expect((await buckets('signups', NO_REFILL_TO_SPEAK_OF).take('127.0.0.1', 10)).granted).toBe(
        10,
      );
    });

    it('refills with time', async () => {
      // One token every 10 ms.
      const messages = buckets('messages', { capacity: 2, refillPerMinute: 6_000 });
      await messages.take('alice', 2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await messages.take('alice', 2)).granted).toBe(2);
    });

    it.each([
      ['a fast refill', { capacity: 10, refillPerMinute: 600_000 }, MIN_RETRY_AFTER_MS],
      ['a slow refill', { capacity: 100, refillPerMinute: 1 }, MAX_RETRY_AFTER_MS],
    ])(
      'keeps retryAfterMs between MIN_RETRY_AFTER_MS and a minute with %s',
      async (_name, limit, wait) => {
        const messages = buckets('messages', limit);
        expect((await messages.take('alice', limit.capacity + 50)).retryAfterMs).toBe(wait);
      },
    );
  });
}
