import { Redis, type RedisOptions, type Result } from 'ioredis';
import { createLinkLog } from './link-log.ts';
import type { Logger } from './logger.ts';
import { linkCheck, type ReadinessCheck } from './readiness.ts';
import { withoutPassword } from './redacted-url.ts';
import { describeRedisError, watchRedisLink } from './redis-link.ts';
import {
  type Grant,
  grantOf,
  type RateBuckets,
  type RateBucketsFactory,
  type RateLimit,
  refillPerMs,
  TokenBuckets,
} from './token-bucket.ts';

/** Where the buckets live: `ferry:rate:<set>:<key>`, e.g. `ferry:rate:messages:<user id>`. */
const RATE_KEY_PREFIX = 'ferry:rate:';

/**
 * How long a send or a sign-up waits on Redis before it counts on this process alone. A
 * bucket script answers in well under a millisecond on a LAN; a Redis that takes longer is
 * in trouble, and the request must not wait with it.
 */
export const RATE_COMMAND_TIMEOUT_MS = 250;

/**
 * Silence after which a connection with a command in flight is taken for dead (half-open)
 * and reopened: until then each request waits RATE_COMMAND_TIMEOUT_MS, afterwards none
 * waits, as commands on a closed connection fail at once.
 */
const SILENCE_MS = 1_000;

/** Reconnect attempts back off to one a second, and never stop (as redis-fanout.ts's). */
const RECONNECT_MAX_DELAY_MS = 1_000;
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS);

/**
 * No offline queue and no retries: a command while Redis is away fails at once, and the
 * request counts locally, instead of waiting for a Redis that may be gone for an hour.
 */
const CONNECTION_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: RATE_COMMAND_TIMEOUT_MS,
  socketTimeout: SILENCE_MS,
  retryStrategy: reconnectDelay,
};

/**
 * The bucket's state as of Redis's own clock (`TIME`, so that every process agrees on it):
 * `tokens` refilled since `at`, a full bucket when there is no key. ARGV: capacity, tokens
 * per millisecond, then the script's own argument.
 */
const REFILL_LUA = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if stored[1] then
  local elapsed = math.max(0, now - tonumber(stored[2]))
  tokens = math.min(capacity, tonumber(stored[1]) + elapsed * per_ms)
end
`;

/**
 * Stores the bucket, to expire when it has refilled: a full bucket is the same as no key,
 * so Redis holds only the buckets in use, however many keys come by.
 */
const SAVE_LUA = `
if tokens >= capacity then
  redis.call('DEL', KEYS[1])
else
  local exact = '%.17g'
  redis.call('HSET', KEYS[1], 'tokens', string.format(exact, tokens), 'at', string.format(exact, now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms))
end
`;

/**
 * Takes up to ARGV[3] whole tokens; answers what it granted and the tokens left, as a string
 * (Redis would cut a Lua number to an integer).
 */
const TAKE_LUA = `${REFILL_LUA}
local granted = math.min(tonumber(ARGV[3]), math.floor(tokens))
tokens = tokens - granted
${SAVE_LUA}
return {granted, string.format('%.17g', tokens)}
`;

/** Gives ARGV[3] tokens back to a bucket in use; a full bucket (no key) stays as it is. */
const REFUND_LUA = `${REFILL_LUA}
if not stored[1] then return 0 end
tokens = math.min(capacity, tokens + tonumber(ARGV[3]))
${SAVE_LUA}
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ferryRateTake(
      key: string,
      capacity: number,
      perMs: number,
      cost: number,
    ): Result<[number, string], Context>;
    ferryRateRefund(
      key: string,
      capacity: number,
      perMs: number,
      tokens: number,
    ): Result<number, Context>;
  }
}

/** The Redis-backed budgets of one process (`FERRY_REDIS_URL`). */
export interface RedisRateLimits {
  /** createFerryServer's `rateBuckets` option. */
  buckets: RateBucketsFactory;
  /** `redisRateLimits` in /readyz: the link's state, reported; limits go local without it. */
  readiness: ReadinessCheck;
  /** Lets Redis go, without waiting on it; requests after it count locally. */
  close(): void;
}

/**
 * Rate buckets shared by every Ferry process through the Redis at `url`: a user, or an
 * address, has one budget whichever process it reaches.
 *
 * Redis is not the truth, and a limit must never stop a send or a sign-up: while Redis is
 * unreachable (or slower than RATE_COMMAND_TIMEOUT_MS) each request counts on this
 * process's own buckets, so the limits are per process for the length of the outage. The
 * local buckets count what this process took while Redis was up too, so an outage starts
 * from that and not from a full bucket. The log says once when the limits go local and
 * once when they are shared again.
 */
export function createRedisRateLimits(url: string, log: Logger): RedisRateLimits {
  const redis = new Redis(url, CONNECTION_OPTIONS);
  redis.defineCommand('ferryRateTake', { numberOfKeys: 1, lua: TAKE_LUA });
  redis.defineCommand('ferryRateRefund', { numberOfKeys: 1, lua: REFUND_LUA });
  const link = createLinkLog({
    name: `Redis rate limits (${withoutPassword(url)})`,
    whileDown: 'message and sign-up limits are per process',
    log,
  });
  let closing = false;
  const shared: SharedLink = {
    redis,
    worked: () => link.up(),
    failed: (error) => {
      if (!closing) link.down(describeRedisError(error));
    },
  };
  watchRedisLink(redis, link, { closing: () => closing });
  return {
    buckets: (name, limit) => new RedisBuckets(shared, `${RATE_KEY_PREFIX}${name}:`, limit),
    readiness: linkCheck('redisRateLimits', link),
    close() {
      closing = true;
      redis.disconnect();
    },
  };
}

/** The one connection every bucket set of a process uses, and what its commands report. */
interface SharedLink {
  redis: Redis;
  worked(): void;
  failed(error: unknown): void;
}

/** One bucket set in Redis, with this process's own buckets for when Redis fails. */
class RedisBuckets implements RateBuckets {
  readonly #link: SharedLink;
  readonly #prefix: string;
  readonly #limit: RateLimit;
  readonly #perMs: number;
  readonly #local: TokenBuckets;

  constructor(link: SharedLink, prefix: string, limit: RateLimit) {
    // First: TokenBuckets refuses a limit that would hold senders back for good.
    this.#local = new TokenBuckets(limit);
    this.#link = link;
    this.#prefix = prefix;
    this.#limit = limit;
    this.#perMs = refillPerMs(limit);
  }

  async take(key: string, cost: number): Promise<Grant> {
    if (cost <= 0) return { granted: 0, retryAfterMs: 0 };
    const { capacity } = this.#limit;
    try {
      const [granted, left] = await this.#link.redis.ferryRateTake(
        this.#prefix + key,
        capacity,
        this.#perMs,
        cost,
      );
      this.#link.worked();
      // Counted here too, so that an outage starts from what this process took.
      this.#local.take(key, granted);
      return grantOf(this.#limit, cost, granted, Number(left));
    } catch (error) {
      this.#link.failed(error);
      return this.#local.take(key, cost);
    }
  }

  async refund(key: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    this.#local.refund(key, tokens);
    try {
      await this.#link.redis.ferryRateRefund(
        this.#prefix + key,
        this.#limit.capacity,
        this.#perMs,
        tokens,
      );
      this.#link.worked();
    } catch (error) {
      // Lost with Redis: that bucket refills on its own, so the user waits a little more.
      this.#link.failed(error);
    }
  }
}
