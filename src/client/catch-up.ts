import type { StoredMessage } from '../shared/protocol.ts';

export interface CatchUpDeps {
  /** The room's cursor now: the page is fetched after it. */
  cursorOf(room: string): number;
  /** One page of history after `after`, ascending; rejects when the link drops. */
  fetchPage(room: string, after: number): Promise<{ messages: StoredMessage[]; latestSeq: number }>;
  /** Stores a page (one transaction) and advances the cursor. */
  storePage(room: string, messages: StoredMessage[]): Promise<void>;
  /** How many messages are still missing, for "catching up… N messages"; null when done. */
  onProgress(room: string, remaining: number | null): void;
  pageSize: number;
}

/**
 * Fetches, page by page, everything after a room's cursor until a short page says the room
 * is caught up. One run per room at a time: a request while a run is going (a live message
 * that skipped ahead, a reconnect) makes the run go round once more instead of starting a
 * second one beside it.
 */
export class CatchUp {
  readonly #deps: CatchUpDeps;
  readonly #running = new Set<string>();
  readonly #again = new Set<string>();

  constructor(deps: CatchUpDeps) {
    this.#deps = deps;
  }

  isRunning(room: string): boolean {
    return this.#running.has(room);
  }

  /** Resolves when the room is caught up, or when the link dropped (a reconnect retries). */
  async run(room: string): Promise<void> {
    if (this.#running.has(room)) {
      this.#again.add(room);
      return;
    }
    this.#running.add(room);
    try {
      do {
        this.#again.delete(room);
        await this.#pages(room);
      } while (this.#again.has(room));
    } catch {
      // The link dropped mid-run; the next connect starts a new run from the cursor.
    } finally {
      this.#running.delete(room);
      this.#again.delete(room);
      this.#deps.onProgress(room, null);
    }
  }

  async #pages(room: string): Promise<void> {
    for (;;) {
      const after = this.#deps.cursorOf(room);
      const page = await this.#deps.fetchPage(room, after);
      this.#deps.onProgress(room, Math.max(0, page.latestSeq - after - page.messages.length));
      await this.#deps.storePage(room, page.messages);
      if (page.messages.length < this.#deps.pageSize) return;
      // A full page that did not move the cursor would be fetched again forever.
      if (this.#deps.cursorOf(room) === after) return;
    }
  }
}
