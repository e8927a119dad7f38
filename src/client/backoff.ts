/** Reconnect delays: exponential from `minMs`, capped at `maxMs`, spread by `jitter`. */
export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: each delay is drawn uniformly from [base × (1 − jitter), base]. */
  jitter: number;
}

/**
 * Up to 1 s, 2 s, 4 s, 8 s, then 15 s: quick enough for a tunnel on a train, and "full
 * jitter" (each delay drawn from [0, base]) so that a thousand phones dropped at once by a
 * process that died come back spread evenly over the first second, not all in its second
 * half. With "equal jitter" ([½, 1] × base) the reconnect storm bench measured 2.8 times
 * the even rate in its busiest 100 ms; with full jitter, 1.5 times or less
 * (docs/benchmarks.md, "Reconnect storm").
 */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  minMs: 1_000,
  maxMs: 15_000,
  factor: 2,
  jitter: 1,
};

/**
 * Exponential backoff with jitter: the delay for attempt n is drawn from
 * [base × (1 − jitter), base] with base = min(maxMs, minMs × factor^n), so it never exceeds
 * the cap and a crowd of clients spreads out instead of retrying in lockstep.
 *
 * Its shape is the one socket.io-client's Manager drives (`duration`, `reset`, `attempts`,
 * `setMin`, `setMax`, `setJitter`): Ferry installs it into the Manager, so socket.io's own
 * reconnection loop does the scheduling and this unit decides the delays and reports them.
 */
export class Backoff {
  attempts = 0;
  #policy: BackoffPolicy;
  readonly #random: () => number;
  readonly #onDelay: (attempt: number, delayMs: number) => void;

  constructor(
    policy: BackoffPolicy = DEFAULT_BACKOFF,
    options: { random?: () => number; onDelay?: (attempt: number, delayMs: number) => void } = {},
  ) {
    this.#policy = { ...policy };
    this.#random = options.random ?? Math.random;
    this.#onDelay = options.onDelay ?? (() => {});
  }

  /** The delay before the next attempt; counts the attempt. */
  duration(): number {
    const { minMs, maxMs, factor, jitter } = this.#policy;
    const base = Math.min(maxMs, minMs * factor ** this.attempts);
    this.attempts += 1;
    const delayMs = Math.round(base * (1 - jitter * this.#random()));
    this.#onDelay(this.attempts, delayMs);
    return delayMs;
  }

  reset(): void {
    this.attempts = 0;
  }

  setMin(minMs: number): void {
    this.#policy.minMs = minMs;
  }

  setMax(maxMs: number): void {
    this.#policy.maxMs = maxMs;
  }

  setJitter(jitter: number): void {
    this.#policy.jitter = jitter;
  }
}
