import type { TimerHandle, Timers } from './timers.ts';

/**
 * How long one `typing` signal is shown. The typer renews it every TYPING_RENEW_MS while
 * they type, so it stays up through a pause of a couple of seconds and goes soon after
 * they stop, close the tab, or lose the link.
 */
export const TYPING_SHOWN_MS = 5_000;
/** How often a tab says again that its user is typing in a room. */
export const TYPING_RENEW_MS = 2_000;

const NOBODY: readonly string[] = Object.freeze([]);

interface Typist {
  name: string;
  timer: TimerHandle;
}

/**
 * Who is typing in each room, as heard from the server. Nothing of it is stored, and all
 * of it is forgotten when the link drops: a signal from before is not shown as if current.
 * The user's own signals (another tab of theirs) are not shown.
 */
export class TypingBoard {
  readonly #timers: Timers;
  readonly #selfId: () => string;
  readonly #onChange: () => void;
  readonly #rooms = new Map<string, Map<string, Typist>>();
  /** Each room's names, kept until it changes, so a UI snapshot stays the same array. */
  readonly #names = new Map<string, readonly string[]>();

  constructor(deps: { timers: Timers; selfId: () => string; onChange: () => void }) {
    this.#timers = deps.timers;
    this.#selfId = deps.selfId;
    this.#onChange = deps.onChange;
  }

  /** The names of who is typing in `room`, in the order they started. */
  names(room: string): readonly string[] {
    return this.#names.get(room) ?? NOBODY;
  }

  /** `userId` (shown as `name`) is typing in `room` now. */
  heard(room: string, userId: string, name: string): void {
    if (userId === this.#selfId()) return;
    let typists = this.#rooms.get(room);
    if (!typists) {
      typists = new Map();
      this.#rooms.set(room, typists);
    }
    const known = typists.get(userId);
    if (known) this.#timers.clearTimeout(known.timer);
    const timer = this.#timers.setTimeout(() => this.stopped(room, [userId]), TYPING_SHOWN_MS);
    typists.set(userId, { name, timer });
    if (known?.name !== name) this.#changed(room);
  }

  /** These users stopped typing in `room` (a message of theirs arrived, or time ran out). */
  stopped(room: string, userIds: Iterable<string>): void {
    const typists = this.#rooms.get(room);
    if (!typists) return;
    let changed = false;
    for (const userId of userIds) {
      const typist = typists.get(userId);
      if (!typist) continue;
      this.#timers.clearTimeout(typist.timer);
      typists.delete(userId);
      changed = true;
    }
    if (changed) this.#changed(room);
  }

  /** The link dropped: whatever was heard on it is no longer known to be true. */
  clear(): void {
    const rooms = [...this.#rooms.keys()];
    for (const typists of this.#rooms.values()) {
      for (const typist of typists.values()) this.#timers.clearTimeout(typist.timer);
    }
    this.#rooms.clear();
    this.#names.clear();
    if (rooms.length > 0) this.#onChange();
  }

  #changed(room: string): void {
    const typists = this.#rooms.get(room);
    const names = typists ? [...typists.values()].map((typist) => typist.name) : [];
    if (names.length === 0) {
      this.#rooms.delete(room);
      this.#names.delete(room);
    } else this.#names.set(room, names);
    this.#onChange();
  }
}
