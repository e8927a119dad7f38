import type { CommitStats } from './message-store.ts';

/** The listeners of a store's `observeCommits`; `emit` costs nothing while there are none. */
export class CommitListeners {
  readonly #listeners = new Set<(stats: CommitStats) => void>();

  /** Calls `listener` after each commit from now on; returns the disposer. */
  add(listener: (stats: CommitStats) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get active(): boolean {
    return this.#listeners.size > 0;
  }

  emit(stats: CommitStats): void {
    for (const listener of this.#listeners) listener(stats);
  }
}
