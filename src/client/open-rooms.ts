import type { RoomView } from './room-view.ts';
import type { SeqCursor } from './seq-cursor.ts';
import type { LocalMessage } from './types.ts';

/** What the UI shows of one room. A new object exactly when something in it changed. */
export interface RoomSnapshot {
  room: string;
  messages: readonly LocalMessage[];
  /** Messages still to fetch while catching up, or null when caught up. */
  catchingUp: number | null;
  /** Older history exists on the server below what is stored here. */
  hasOlder: boolean;
  /** Why the server would not let us in (a private room without a valid invite), or null. */
  denied: string | null;
}

/** The engine's working state of one room it keeps in sync. */
export interface OpenRoom {
  view: RoomView;
  cursor: SeqCursor;
  /** Lowest seq stored contiguously up to the cursor; 0 until the first join. */
  floor: number;
  /** The device has joined this room before, so cursor and floor mean something. */
  known: boolean;
  /** The invite secret this room was opened with, until a join succeeds. */
  invite: string | undefined;
  catchingUp: number | null;
  denied: string | null;
}

function emptySnapshot(room: string): RoomSnapshot {
  return { room, messages: [], catchingUp: null, hasOlder: false, denied: null };
}

/**
 * The rooms the engine has open, each with a memoised snapshot: `snapshot(room)` returns
 * the same object until that room changes (rooms not open read as one stable empty
 * snapshot), which is what `useSyncExternalStore` needs.
 */
export class OpenRooms {
  readonly #rooms = new Map<string, { state: OpenRoom; snapshot: RoomSnapshot }>();
  readonly #empty = new Map<string, RoomSnapshot>();
  readonly #onChange: () => void;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  get(room: string): OpenRoom | undefined {
    return this.#rooms.get(room)?.state;
  }

  has(room: string): boolean {
    return this.#rooms.has(room);
  }

  names(): IterableIterator<string> {
    return this.#rooms.keys();
  }

  snapshot(room: string): RoomSnapshot {
    const open = this.#rooms.get(room);
    if (open) return open.snapshot;
    let empty = this.#empty.get(room);
    if (!empty) {
      empty = emptySnapshot(room);
      this.#empty.set(room, empty);
    }
    return empty;
  }

  add(room: string, state: OpenRoom): void {
    this.#set(room, state);
  }

  /** Replaces an open room's state (from its current state, never a stale copy); notifies. */
  update(room: string, change: (state: OpenRoom) => OpenRoom): void {
    const open = this.#rooms.get(room);
    if (open) this.#set(room, change(open.state));
  }

  #set(room: string, state: OpenRoom): void {
    const snapshot: RoomSnapshot = {
      room,
      messages: state.view.messages,
      catchingUp: state.catchingUp,
      hasOlder: state.known && state.floor > 1,
      denied: state.denied,
    };
    this.#rooms.set(room, { state, snapshot });
    this.#onChange();
  }
}
