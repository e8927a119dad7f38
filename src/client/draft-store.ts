/**
 * The part of the Web Storage API drafts need: `localStorage` in the browser, a Map in
 * tests or where the browser refuses site storage.
 */
export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** A Storage over a Map: drafts live as long as the page. */
export function memoryDraftStorage(): DraftStorage & { readonly length: number } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, String(value));
    },
    removeItem: (key) => {
      items.delete(key);
    },
    get length() {
      return items.size;
    },
  };
}

/**
 * The browser's `localStorage`, or a Map where there is none: reading the property throws
 * when the user blocks site data, and Node has none.
 */
export function localDraftStorage(): DraftStorage {
  try {
    if (globalThis.localStorage) return globalThis.localStorage;
  } catch {
    // SecurityError: site data is blocked; drafts then last as long as the page.
  }
  return memoryDraftStorage();
}

/**
 * What was typed in each room's composer and not sent yet, per profile (the IndexedDB
 * database name, so two simulated devices in one origin keep their drafts apart).
 *
 * Writes are synchronous and made on every change, so a crash or a reload right after a
 * keystroke finds it. The page's own copy is the truth for this page: a storage that
 * refuses a write (quota, locked down) costs the draft only across a reload.
 */
export class DraftStore {
  readonly #storage: DraftStorage;
  readonly #prefix: string;
  readonly #page = new Map<string, string>();

  constructor(storage: DraftStorage, profile: string) {
    this.#storage = storage;
    this.#prefix = `ferry-draft:${profile}:`;
  }

  /** The room's draft; empty when there is none. */
  read(room: string): string {
    return this.#page.get(room) ?? this.#stored(room);
  }

  /** Replaces the room's draft; an empty one removes it. Never throws. */
  write(room: string, text: string): void {
    this.#page.set(room, text);
    try {
      if (text === '') this.#storage.removeItem(this.#prefix + room);
      else this.#storage.setItem(this.#prefix + room, text);
    } catch {
      // Kept in #page: the composer must keep working on a full or locked-down storage.
    }
  }

  /**
   * The message `sent` reached the outbox: this page's draft is empty again. The stored
   * draft goes only if it still is that text; another tab of the profile may have written
   * its own draft for the room since, which must outlive this tab's send.
   */
  clearSent(room: string, sent: string): void {
    this.#page.set(room, '');
    try {
      if (this.#stored(room) === sent) this.#storage.removeItem(this.#prefix + room);
    } catch {
      // A storage that refuses leaves a stale draft at worst, never a lost one.
    }
  }

  #stored(room: string): string {
    try {
      return this.#storage.getItem(this.#prefix + room) ?? '';
    } catch {
      return '';
    }
  }
}
