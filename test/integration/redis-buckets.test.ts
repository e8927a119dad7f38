import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/server/logger.ts';
import {
  createRedisRateLimits,
  RATE_COMMAND_TIMEOUT_MS,
  type RedisRateLimits,
} from '../../src/server/redis-buckets.ts';
import { localRateBuckets, type RateLimit } from '../../src/server/token-bucket.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { captureLog } from '../support/log-capture.ts';
import { describeWithRedis, redisForSuite } from '../support/redis.ts';
import { freePort } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import { runRateBucketsContract } from './rate-buckets.contract.ts';

const SLOW_REFILL: RateLimit = { capacity: 10, refillPerMinute: 1 };

runRateBucketsContract('in process', async () => ({
  buckets: (_name, limit) => localRateBuckets(limit),
  dispose: async () => {},
}));

/** A Redis nothing listens on: every request counts on the process's own buckets. */
runRateBucketsContract('Redis unreachable, counting locally', async () => {
  const limits = createRedisRateLimits(`redis://127.0.0.1:${await freePort()}`, silentLogger);
  return { buckets: limits.buckets, dispose: async () => limits.close() };
});

describeWithRedis('rate buckets in Redis', () => {
  const suite = redisForSuite();

  /** The limits of one Ferry process over `url`, connected, with the lines it logs. */
  async function processLimits(
    url = suite.redis.url,
  ): Promise<RedisRateLimits & { lines: string[] }> {
    const { logger, messages: lines } = captureLog();
    const limits = createRedisRateLimits(url, logger);
    await waitFor('the limits to reach Redis', () => lines.some((l) => l.endsWith(': connected')));
    return Object.assign(limits, { lines });
  }

  runRateBucketsContract('Redis', async () => {
    const limits = await processLimits();
    return { buckets: limits.buckets, dispose: async () => limits.close() };
  });

  describe('between processes', () => {
    const cleanups = cleanupsAfterEach();

    async function twoProcesses(): Promise<[RedisRateLimits, RedisRateLimits]> {
      const a = await processLimits();
      const b = await processLimits();
      cleanups.push(
        () => a.close(),
        () => b.close(),
      );
      return [a, b];
    }

    it('gives a key one budget across two processes, granting the second what the first left', async () => {
      const [a, b] = await twoProcesses();
      expect((await a.buckets('messages', SLOW_REFILL).take('alice', 6)).granted).toBe(6);
      expect((await b.buckets('messages', SLOW_REFILL).take('alice', 6)).granted).toBe(4);
    });

    it("gives one process's refund to the other's next request", async () => {
      const [a, b] = await twoProcesses();
      await a.buckets('messages', SLOW_REFILL).take('alice', 10);
      await b.buckets('messages', SLOW_REFILL).refund('alice', 3);
      expect((await a.buckets('messages', SLOW_REFILL).take('alice', 10)).granted).toBe(3);
    });

    it('keeps a bucket in use under ferry:rate:<set>:<key>, set to expire when it is full again', async () => {
      const [a] = await twoProcesses();
      // Ten tokens a second: three taken are full again within 300 ms.
      await a.buckets('signups', { capacity: 10, refillPerMinute: 600 }).take('127.0.0.1', 3);
      expect(await suite.inspector.keys('*')).toEqual(['ferry:rate:signups:127.0.0.1']);
      const ttl = await suite.inspector.pttl('ferry:rate:signups:127.0.0.1');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
      await waitFor(
        'the bucket to expire',
        async () => (await suite.inspector.dbsize()) === 0,
        2_000,
      );
    });

    it('keeps no key for a bucket a refund made full again', async () => {
      const [a] = await twoProcesses();
      const messages = a.buckets('messages', SLOW_REFILL);
      await messages.take('alice', 3);
      await messages.refund('alice', 3);
      expect(await suite.inspector.dbsize()).toBe(0);
    });

    it('keeps no key for a request of nothing', async () => {
      const [a] = await twoProcesses();
      await a.buckets('messages', SLOW_REFILL).take('alice', 0);
      expect(await suite.inspector.dbsize()).toBe(0);
    });
  });

  describe('while Redis fails', () => {
    const cleanups = cleanupsAfterEach();

    it('counts on the process alone while Redis is down, starting from what the process took', async () => {
      const limits = await processLimits();
      cleanups.push(() => limits.close());
      const messages = limits.buckets('messages', SLOW_REFILL);
      await messages.take('alice', 7);
      await suite.redis.stop();

      expect((await messages.take('alice', 10)).granted).toBe(3);
      expect((await messages.take('bob', 10)).granted).toBe(10);
    });

    it('shares the budget again once Redis is back', async () => {
      const limits = await processLimits();
      cleanups.push(() => limits.close());
      const other = await processLimits();
      cleanups.push(() => other.close());
      await suite.redis.stop();
      await limits.buckets('messages', SLOW_REFILL).take('alice', 10);

      await suite.redis.start();
      await waitFor('both processes to be back on Redis', () =>
        [limits, other].every((p) => p.lines.some((line) => line.includes('back after'))),
      );
      // The restarted Redis is empty: the budget starts full, and is one again.
      expect((await limits.buckets('messages', SLOW_REFILL).take('alice', 6)).granted).toBe(6);
      expect((await other.buckets('messages', SLOW_REFILL).take('alice', 6)).granted).toBe(4);
    });

    it('logs one line when Redis is lost and one when it is back, however many requests came between', async () => {
      const limits = await processLimits();
      cleanups.push(() => limits.close());
      await suite.redis.stop();
      const messages = limits.buckets('messages', SLOW_REFILL);
      for (let i = 0; i < 20; i++) await messages.take(`user ${i}`, 1);
      await suite.redis.start();
      await waitFor('the link to come back', () => limits.lines.length >= 3);
      await messages.take('alice', 1);

      expect(limits.lines).toEqual([
        expect.stringMatching(/^Redis rate limits \(redis:\/\/127\.0\.0\.1:\d+\): connected$/),
        expect.stringMatching(
          /: connection lost \(.*\); message and sign-up limits are per process; retrying/,
        ),
        expect.stringMatching(/: back after \d+\.\d s$/),
      ]);
    });

    it('counts locally within the command timeout while Redis does not answer (a half-open link)', async () => {
      const proxy = await FaultProxy.start({ port: suite.redis.port });
      cleanups.push(() => proxy.stop());
      const limits = await processLimits(`redis://127.0.0.1:${proxy.port}`);
      cleanups.push(() => limits.close());
      const messages = limits.buckets('messages', SLOW_REFILL);
      await messages.take('alice', 7);
      proxy.sever();

      const started = Date.now();
      expect((await messages.take('alice', 10)).granted).toBe(3);
      expect(Date.now() - started).toBeLessThan(RATE_COMMAND_TIMEOUT_MS + 500);
      expect(limits.lines.at(-1)).toMatch(/connection lost \(Command timed out\)/);
    });
  });
});
