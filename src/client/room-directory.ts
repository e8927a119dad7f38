import type { LocalStore, StoredSummary } from './local-store.ts';
import { shown } from './message-state.ts';
import type { TimerHandle, Timers } from './timers.ts';

/** Unread counts stop at this (shown as "99+"): one bounded read per room, at any size. */
export const UNREAD_CAP = 100;

/** Changes this close together refresh the list once (a catch-up commits page by page). */
export const DIRECTORY_REFRESH_MS = 150;

/** One room of the user's list, as the list shows it. */
export interface RoomSummary {
  room: string;
  name: string;
  /** Messages of others above the read cursor, at most UNREAD_CAP. */
  unread: number;
  /** The newest message, sent or typed here; null in a room with none on this device. */
  last: { author: string; body: string; deleted: boolean; status: string } | null;
  /** When the room last had a message, or joined the list: the list's order, newest first. */
  activeAt: number;
}

export interface RoomDirectoryDeps {
  store: LocalStore;
  timers: Timers;
  userId(): string;
  onChange(): void;
}

/**
 * The rooms in the user's list with their newest message and unread count, read from the
 * device (so the list works offline) and read again shortly after anything changes.
 */
export class RoomDirectory {
  readonly #deps: RoomDirectoryDeps;
  #summaries: readonly RoomSummary[] = [];
  #loaded = false;
  #timer: TimerHandle | null = null;
  #reading: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(deps: RoomDirectoryDeps) {
    this.#deps = deps;
  }

  /** The list, newest activity first; the same array until it changes. */
  get summaries(): readonly RoomSummary[] {
    return this.#summaries;
  }

  /** The list has been read from the device once: an empty list means no rooms. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Something in the list may have changed: read it again soon (once for a burst). */
  changed(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = this.#deps.timers.setTimeout(() => {
      this.#timer = null;
      void this.refresh();
    }, DIRECTORY_REFRESH_MS);
  }

  /** Reads the list now; a change heard while reading reads it once more after. */
  refresh(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = this.#read().finally(() => {
      this.#reading = null;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#reading;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#deps.timers.clearTimeout(this.#timer);
  }

  async #read(): Promise<void> {
    let stored: StoredSummary[];
    try {
      stored = await this.#deps.store.roomSummaries(this.#deps.userId(), UNREAD_CAP);
    } catch {
      return; // the database is going away; the engine says so
    }
    if (this.#closed) return;
    const next = stored.map(summaryOf).sort((a, b) => b.activeAt - a.activeAt);
    if (this.#loaded && sameList(this.#summaries, next)) return;
    this.#loaded = true;
    this.#summaries = next;
    this.#deps.onChange();
  }
}

function summaryOf({ meta, last, unread }: StoredSummary): RoomSummary {
  const at = last ? (last.status === 'sent' ? last.ts : last.createdAt) : 0;
  return {
    room: meta.room,
    name: meta.name,
    unread,
    last: last
      ? {
          author: last.author,
          body: shown(last).body,
          deleted: shown(last).deleted === true,
          status: last.status,
        }
      : null,
    activeAt: Math.max(at, meta.addedAt),
  };
}

function sameList(a: readonly RoomSummary[], b: readonly RoomSummary[]): boolean {
  return a.length === b.length && a.every((summary, i) => sameSummary(summary, b[i]));
}

function sameSummary(a: RoomSummary, b: RoomSummary | undefined): boolean {
  return (
    b !== undefined &&
    a.room === b.room &&
    a.name === b.name &&
    a.unread === b.unread &&
    a.activeAt === b.activeAt &&
    a.last?.body === b.last?.body &&
    a.last?.author === b.last?.author &&
    a.last?.status === b.last?.status &&
    a.last?.deleted === b.last?.deleted
  );
}
