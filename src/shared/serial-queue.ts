/**
 * Runs async tasks one at a time, in the order they were pushed. The server keeps one per
 * socket, so a socket's batches are appended in arrival order even when the store is
 * asynchronous; the engine keeps one for its local commits. Two tasks never interleave
 * between their awaits.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Schedules `task` after every task pushed before it; a failure does not stop the queue. */
  push<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
