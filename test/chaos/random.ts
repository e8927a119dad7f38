/**
 * A seeded pseudo-random source, so that a run's schedule of faults and sends can be
 * replayed from the seed it printed (`CHAOS_SEED=<n>`). mulberry32: 32 bits of state,
 * good enough for test schedules, not for anything secret.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** A wait drawn from an exponential distribution: the gaps of a Poisson process. */
  exponential(meanMs: number): number {
    return -meanMs * Math.log(1 - this.next());
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /**
   * An independent stream for one actor (a client's workload, the proxy's jitter), so that
   * one actor drawing more numbers does not shift every other actor's schedule.
   */
  fork(label: string): SeededRandom {
    let hash = this.#state ^ 0x9e3779b9;
    for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193);
    return new SeededRandom(hash >>> 0);
  }

  /** The callable form that APIs taking `random?: () => number` expect. */
  get source(): () => number {
    return () => this.next();
  }
}

/** A fresh seed for a run that was not given one. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
