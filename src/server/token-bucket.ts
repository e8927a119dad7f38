import { clampRetryAfterMs } from '../shared/limits.ts';

/** Rate-limit settings: a burst of `capacity`, refilled at `refillPerMinute`. */
export interface RateLimit {
  capacity: number;
  refillPerMinute: number;
}

/**
 * The default per-user message budget. The burst is large so that a backlog typed offline
 * (a long train ride) flushes at once; the refill (100 a minute) bounds a sustained flood.
 */
export const DEFAULT_MESSAGE_RATE: RateLimit = { capacity: 1_000, refillPerMinute: 100 };

/** Most keys (users, addresses) whose buckets are tracked at once, unless told otherwise. */
export const DEFAULT_MAX_KEYS = 100_000;

/** Below this many keys, no sweep runs: a few thousand small entries cost nothing. */
const MIN_SWEEP_SIZE = 1_024;

/** What a bucket grants: `granted` of the asked tokens; the rest after `retryAfterMs`. */
export interface Grant {
  granted: number;
  /** 0 when everything was granted; otherwise within [MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS]. */
  retryAfterMs: number;
}

/** Tokens a bucket under `limit` gains per millisecond. */
export function refillPerMs(limit: RateLimit): number {
  return limit.refillPerMinute / 60_000;
}

/**
 * What a request for `cost` tokens is told when the bucket granted `granted` and was left
 * with `tokensLeft` (a fraction, as it refills). The rest is asked for when a useful chunk
 * has refilled, not for every single token.
 */
export function grantOf(
  limit: RateLimit,
  cost: number,
  granted: number,
  tokensLeft: number,
): Grant {
  if (granted >= cost) return { granted, retryAfterMs: 0 };
  const wanted = Math.min(cost - granted, Math.max(1, Math.floor(limit.capacity / 10)));
  return { granted, retryAfterMs: clampRetryAfterMs((wanted - tokensLeft) / refillPerMs(limit)) };
}

/**
 * Token buckets by key that may live outside this process: `TokenBuckets` behind promises
 * (`localRateBuckets`), or buckets in Redis shared by every Ferry process (redis-buckets.ts).
 * The rules are TokenBuckets' own: a prefix of a request is granted, and the rest is asked
 * for after `retryAfterMs`.
 *
 * Neither method rejects: a limit that cannot be checked falls back to this process's own
 * count, because a rate limit must never be what stops a send or a sign-up.
 */
export interface RateBuckets {
  /** Takes up to `cost` tokens from `key`'s bucket. */
  take(key: string, cost: number): Promise<Grant>;
  /** Gives back tokens that were taken but not used; a full bucket stays full. */
  refund(key: string, tokens: number): Promise<void>;
}

/**
 * Makes the bucket set called `name` (`messages`, `signups`: it keeps sets apart where they
 * share a store) for `limit`.
 */
export type RateBucketsFactory = (name: string, limit: RateLimit) => RateBuckets;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (user id, client address), lazily refilled from an injected clock.
 * A request for `cost` tokens is granted as far as the bucket allows, so a batch's prefix
 * goes through and the rest waits: order is kept, and nothing is lost.
 *
 * Memory is bounded: a bucket that has refilled is the same as no bucket, so sweeps drop
 * those, and past `maxKeys` the least recently used buckets go (which hands those keys a
 * full bucket early: a flood of that many distinct keys is better met at the network edge).
 */
export class TokenBuckets {
  readonly #limit: RateLimit;
  readonly #clock: () => number;
  readonly #maxKeys: number;
  /** Insertion order is use order (a used key is moved to the end): the first is the LRU. */
  readonly #buckets = new Map<string, Bucket>();
  /** The size at which the next sweep runs; doubling it keeps sweeps O(1) per take overall. */
  #sweepAt = MIN_SWEEP_SIZE;

  constructor(
    limit: RateLimit,
    clock: () => number = Date.now,
    options: { maxKeys?: number } = {},
  ) {
    if (!(limit.capacity >= 1) || !(limit.refillPerMinute > 0)) {
      // A bucket that never refills, or holds nothing, holds its senders back for good.
      throw new RangeError(
        `a rate limit needs a burst of at least 1 and a refill above 0, got ${JSON.stringify(limit)}`,
      );
    }
    this.#limit = limit;
    this.#clock = clock;
    this.#maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** How many keys have a bucket right now (the rest are full). */
  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, cost: number): Grant {
    const now = this.#clock();
    const bucket = this.#refilled(key, now);
    const granted = Math.min(cost, Math.floor(bucket.tokens));
    bucket.tokens -= granted;
    this.#store(key, bucket, now);
    return grantOf(this.#limit, cost, granted, bucket.tokens);
  }

  /** Gives back tokens that were taken but not used (a resent duplicate costs nothing). */
  refund(key: string, tokens: number): void {
    const bucket = this.#buckets.get(key);
    if (!bucket || tokens <= 0) return;
    bucket.tokens = Math.min(this.#limit.capacity, bucket.tokens + tokens);
    if (bucket.tokens >= this.#limit.capacity) this.#buckets.delete(key);
  }

  #perMs(): number {
    return refillPerMs(this.#limit);
  }

  /** The key's bucket as of `now` (a fresh full one when it has none); not stored. */
  #refilled(key: string, now: number): Bucket {
    const bucket = this.#buckets.get(key);
    if (!bucket) return { tokens: this.#limit.capacity, at: now };
    const tokens = bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs();
    return { tokens: Math.min(this.#limit.capacity, tokens), at: now };
  }

  #store(key: string, bucket: Bucket, now: number): void {
    this.#buckets.delete(key);
    if (bucket.tokens >= this.#limit.capacity) return;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size >= this.#sweepAt || this.#buckets.size > this.#maxKeys) {
      this.#sweep(now);
    }
  }

  /** Drops the buckets that have refilled, then the least recently used past `maxKeys`. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const tokens = bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs();
      if (tokens >= this.#limit.capacity) this.#buckets.delete(key);
    }
    // Evict down to three quarters, so a sustained flood of new keys sweeps once per
    // maxKeys/4 takes rather than on every take.
    const keep =
      this.#buckets.size > this.#maxKeys ? Math.max(1, Math.floor(this.#maxKeys * 0.75)) : Infinity;
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= keep) break;
      this.#buckets.delete(key);
    }
    this.#sweepAt = Math.min(this.#maxKeys + 1, Math.max(MIN_SWEEP_SIZE, this.#buckets.size * 2));
  }
}

/** In-process `TokenBuckets` as `RateBuckets`: each Ferry process counts on its own. */
export function localRateBuckets(limit: RateLimit, clock: () => number = Date.now): RateBuckets {
  const buckets = new TokenBuckets(limit, clock);
  return {
    take: async (key, cost) => buckets.take(key, cost),
    refund: async (key, tokens) => buckets.refund(key, tokens),
  };
}
