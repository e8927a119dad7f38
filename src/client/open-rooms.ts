import { unreadAfter } from './room-meta.ts';
import type { RoomView } from './room-view.ts';
import type { SeqCursor } from './seq-cursor.ts';
import type { LocalMessage, RoomMeta } from './types.ts';

/** What the user's own messages show: how far the other members have got in the room. */
export interface RoomReceipts {
  /**
   * Up to where nothing is unread: the user's read cursor (the highest seq seen on screen,
   * on any of their devices), or what the room held when they first came, if higher.
   */
  read: number;
  /** The highest seq any other member's device holds. */
  othersDelivered: number;
  /** The highest seq any other member has seen on screen. */
  othersRead: number;
}

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
  /** The name its members see (a public room's id). */
  name: string;
  /** Read from the device: false until the room's first load is done. */
  loaded: boolean;
  receipts: RoomReceipts;
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
  /**
   * The view holds the newest messages down to this seq; older ones stored here are read
   * on demand (scrolling up). 0: the view holds every sent message this device has.
   */
  low: number;
  /**
   * The user is away from the newest messages (scrolled up, or paged older ones in): the
   * view keeps all it holds, and is cut back to the window when the user is back at the
   * bottom. Otherwise it is cut as soon as it holds twice the window.
   */
  held: boolean;
  meta: RoomMeta;
}

const NO_RECEIPTS: RoomReceipts = { read: 0, othersDelivered: 0, othersRead: 0 };

function emptySnapshot(room: string): RoomSnapshot {
  return {
    room,
    messages: [],
    catchingUp: null,
    hasOlder: false,
    denied: null,
    name: room,
    loaded: false,
    receipts: NO_RECEIPTS,
  };
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

  /** Closes a room (the user left it); it reads as empty from then on. */
  remove(room: string): void {
    if (this.#rooms.delete(room)) this.#onChange();
  }

  /** Replaces an open room's state (from its current state, never a stale copy); notifies. */
  update(room: string, change: (state: OpenRoom) => OpenRoom): void {
    const open = this.#rooms.get(room);
    if (open) this.#set(room, change(open.state));
  }

  #set(room: string, state: OpenRoom): void {
    const previous = this.#rooms.get(room)?.snapshot;
    const { meta } = state;
    const read = unreadAfter(meta);
    const receipts =
      previous &&
      previous.receipts.read === read &&
      previous.receipts.othersDelivered === meta.othersDelivered &&
      previous.receipts.othersRead === meta.othersRead
        ? previous.receipts
        : { read, othersDelivered: meta.othersDelivered, othersRead: meta.othersRead };
    const snapshot: RoomSnapshot = {
      room,
      messages: state.view.messages,
      catchingUp: state.catchingUp,
      hasOlder: state.low > 0 || (state.known && state.floor > 1),
      denied: state.denied,
      name: meta.name,
      loaded: true,
      receipts,
    };
    this.#rooms.set(room, { state, snapshot });
    this.#onChange();
  }
}
