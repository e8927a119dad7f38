import type { LogEntry } from '../shared/protocol.ts';

/** One page of a room's history, ascending, and the room's newest seq when it was read. */
export interface HistoryPage {
  messages: LogEntry[];
  latestSeq: number;
}

export interface CatchUpDeps {
  /** The room's cursor now: the page is fetched after it. */
  cursorOf(room: string): number;
  /**
   * Whether the room is known to hold more than the cursor covers: messages stored past a
   * hole, or a newer seq the server named.
   */
  hasGap(room: string): boolean;
  /** One page of history after `after`, ascending; rejects when the link drops. */
  fetchPage(room: string, after: number): Promise<HistoryPage>;
  /** Stores a page (one transaction) and advances the cursor. */
  storePage(room: string, messages: LogEntry[]): Promise<void>;
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

  /**
   * Resolves when the room is caught up, or when the link dropped (a reconnect retries). A
   * call made while a run is going resolves at once: that run goes round once more.
   */
  async run(room: string): Promise<void> {
    if (this.#running.has(room)) {
      this.#again.add(room);
      return;
    }
    this.#running.add(room);
    let recheck = true;
    try {
      do {
        this.#again.delete(room);
        await this.#pages(room);
        // The server shares a read among requests that overlap it, so a page may have been
        // read a moment before this request, short of a message this device has already
        // seen past. One more pass, read afresh, closes such a hole.
        if (recheck && !this.#again.has(room) && this.#deps.hasGap(room)) {
          recheck = false;
          this.#again.add(room);
        }
      } while (this.#again.has(room));
    } catch {
      // The link dropped mid-run; the next connect starts a new run from the cursor.
    } finally {
      this.#running.delete(room);
      this.#again.delete(room);
      this.#deps.onProgress(room, null);
    }
  }

  /**
   * While one page is being stored, the next is already on its way (fetched after the
   * page's last seq), so the round trip overlaps the IndexedDB write instead of following
   * it. If storing left the cursor somewhere else (islands from live messages), that
   * prefetch is dropped and the next page is fetched after the cursor, as before.
   */
  async #pages(room: string): Promise<void> {
    let after = this.#deps.cursorOf(room);
    let next = this.#fetch(room, after);
    for (;;) {
      const page = await next;
      this.#deps.onProgress(room, Math.max(0, page.latestSeq - after - page.messages.length));
      const full = page.messages.length >= this.#deps.pageSize;
      const lastSeq = page.messages.at(-1)?.seq ?? after;
      if (full) next = this.#fetch(room, lastSeq);
      await this.#deps.storePage(room, page.messages);
      if (!full) return;
      const cursor = this.#deps.cursorOf(room);
      // A full page that did not move the cursor would be fetched again forever.
      if (cursor === after) return;
      if (cursor !== lastSeq) next = this.#fetch(room, cursor);
      after = cursor;
    }
  }

  /** A page request whose rejection counts as handled until it is awaited. */
  #fetch(room: string, after: number): Promise<HistoryPage> {
    const request = this.#deps.fetchPage(room, after);
    request.catch(() => undefined);
    return request;
  }
}
