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

/** What a bucket grants: `granted` of the asked tokens; the rest after `retryAfterMs`. */
export interface Grant {
  granted: number;
  retryAfterMs: number;
}

/**
 * Token buckets by key (user id), lazily refilled from an injected clock. A request for
 * `cost` tokens is granted as far as the bucket allows, so a batch's prefix goes through
 * and the rest waits: order is kept, and nothing is lost.
 */
export class TokenBuckets {
  readonly #limit: RateLimit;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit, clock: () => number = Date.now) {
    this.#limit = limit;
    this.#clock = clock;
  }

  take(key: string, cost: number): Grant {
    const now = this.#clock();
    const perMs = this.#limit.refillPerMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: this.#limit.capacity, at: now };
    bucket.tokens = Math.min(this.#limit.capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    const granted = Math.min(cost, Math.floor(bucket.tokens));
    bucket.tokens -= granted;
    if (bucket.tokens >= this.#limit.capacity) this.#buckets.delete(key);
    else this.#buckets.set(key, bucket);
    if (granted === cost) return { granted, retryAfterMs: 0 };
    // Ask the client back when a useful chunk has refilled, not for every single token.
    const wanted = Math.min(cost - granted, Math.max(1, Math.floor(this.#limit.capacity / 10)));
    const retryAfterMs =
      perMs > 0 ? Math.ceil((wanted - bucket.tokens) / perMs) : Number.MAX_SAFE_INTEGER;
    return { granted, retryAfterMs };
  }

  /** Gives back tokens that were taken but not used (a resent duplicate costs nothing). */
  refund(key: string, tokens: number): void {
    const bucket = this.#buckets.get(key);
    if (!bucket || tokens <= 0) return;
    bucket.tokens = Math.min(this.#limit.capacity, bucket.tokens + tokens);
  }
}
