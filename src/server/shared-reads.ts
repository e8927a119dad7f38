/**
 * Reads in flight by key: a read asked for while the same one is running gets that read's
 * answer instead of a second trip to the store. After a blip, or a process's fan-out
 * coming back, hundreds of clients ask for the same page of the same room ("after 4,180")
 * within milliseconds; one query answers them all. A read that finishes is forgotten at
 * once, so nothing is ever answered from a cache: only reads that overlap are shared.
 */
export class SharedReads<T> {
  readonly #running = new Map<string, Promise<T>>();

  read(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = load().finally(() => this.#running.delete(key));
    this.#running.set(key, started);
    return started;
  }
}
