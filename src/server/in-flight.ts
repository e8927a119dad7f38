/**
 * Work that was taken on and must be finished before the process stops: socket requests
 * queued or running, HTTP requests being answered. A graceful shutdown waits for `idle()`.
 */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** Counts `work` until it settles; answers it as it is. */
  track<T>(work: Promise<T>): Promise<T> {
    return work.finally(this.begin());
  }

  /** Counts one unit of work until `done` is called (exactly once). */
  begin(): () => void {
    this.#count += 1;
    let finished = false;
    return () => {
      if (finished) return;
      finished = true;
      this.#finish();
    };
  }

  /** Resolves once nothing is in flight (at once if nothing is). */
  idle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #finish(): void {
    this.#count -= 1;
    if (this.#count > 0) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
