/** A job waiting for its key's next call, with its caller's promise. */
interface Waiting<Job, Result> {
  job: Job;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * Runs the jobs of one call (all for one key, in arrival order) and settles each one: a
 * settled result per job, in order. Throwing fails every job of the call.
 */
export type CoalescedRun<Job, Result> = (
  key: string,
  jobs: readonly Job[],
) => Promise<PromiseSettledResult<Result>[]>;

export interface CoalescerLimits<Job> {
  /** How much a job adds to a call (say, its number of items). */
  weight(job: Job): number;
  /** A call takes waiting jobs until the next would pass this; it always takes one. */
  maxWeight: number;
}

/**
 * At most one call in flight per key. A job for an idle key starts a call at once; jobs that
 * arrive while their key's call is in flight wait, and all go together as its next call. A
 * busy key thus costs one call per round trip however many callers it has, and its jobs run
 * in arrival order.
 *
 *   idle ──submit──▶ in flight ──call settles, jobs waiting──▶ in flight (next call)
 *    ▲                   │
 *    └── call settles, nothing waiting
 */
export class KeyedCoalescer<Job, Result> {
  readonly #run: CoalescedRun<Job, Result>;
  readonly #limits: CoalescerLimits<Job>;
  /** A key is here while a call for it is in flight; its array holds the jobs waiting. */
  readonly #waiting = new Map<string, Waiting<Job, Result>[]>();
  #onIdle: (() => void)[] = [];

  constructor(run: CoalescedRun<Job, Result>, limits: CoalescerLimits<Job>) {
    this.#run = run;
    this.#limits = limits;
  }

  /** Settles as the job's own result in the call that ran it. */
  submit(key: string, job: Job): Promise<Result> {
    return new Promise((resolve, reject) => {
      const waiting = this.#waiting.get(key);
      if (waiting) {
        waiting.push({ job, resolve, reject });
        return;
      }
      const queue = [{ job, resolve, reject }];
      this.#waiting.set(key, queue);
      void this.#drain(key, queue);
    });
  }

  /** Resolves once no call is in flight and no job waits. */
  idle(): Promise<void> {
    if (this.#waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }

  async #drain(key: string, queue: Waiting<Job, Result>[]): Promise<void> {
    while (queue.length > 0) {
      const call = this.#take(queue);
      let settled: PromiseSettledResult<Result>[];
      try {
        settled = await this.#run(
          key,
          call.map((waiting) => waiting.job),
        );
      } catch (error) {
        for (const waiting of call) waiting.reject(error);
        continue;
      }
      call.forEach((waiting, i) => {
        const result = settled[i];
        if (result?.status === 'fulfilled') waiting.resolve(result.value);
        else waiting.reject(result ? result.reason : new Error('the call settled no result'));
      });
    }
    this.#waiting.delete(key);
    if (this.#waiting.size === 0) for (const resolve of this.#onIdle.splice(0)) resolve();
  }

  /** The jobs of the next call, taken from the front of the queue. */
  #take(queue: Waiting<Job, Result>[]): Waiting<Job, Result>[] {
    let weight = 0;
    let count = 0;
    for (const waiting of queue) {
      const next = this.#limits.weight(waiting.job);
      if (count > 0 && weight + next > this.#limits.maxWeight) break;
      weight += next;
      count += 1;
    }
    return queue.splice(0, count);
  }
}
