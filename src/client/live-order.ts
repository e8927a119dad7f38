import type { LogEntry } from '../shared/protocol.ts';
import type { TimerHandle, Timers } from './timers.ts';

/**
 * How long a hole in a room's live messages may stay open before it is fetched. With
 * several server processes, a message can reach a client a little after its successor
 * (3–6 % of live messages with two writers, each fanned out by a different process);
 * almost every such hole closes within a few milliseconds, so a fetch at once would be
 * wasted, while a wait much longer would leave a lost message missing for the user to see.
 */
export const HOLE_WAIT_MS = 250;

export interface LiveOrderDeps {
  /**
   * The room's gap-free cursor, or null when the room is not open or not yet known on this
   * device (its first join sets where it starts): such messages pass straight through.
   */
  cursorOf(room: string): number | null;
  /** Stores live messages, ascending; those next in order, or those a hole held too long. */
  deliver(room: string, messages: LogEntry[]): void;
  /** A hole stayed open for HOLE_WAIT_MS: fetch the room after its cursor. */
  repair(room: string): void;
  timers: Timers;
}

interface RoomOrder {
  /** The room's cursor when last looked at. */
  cursor: number;
  /**
   * The highest seq handed on, stored, or left to the room's catch-up: the next in order is
   * `handed + 1`. Past the cursor while a hole is being fetched, so that live messages
   * after it are not held again.
   */
  handed: number;
  /** Live messages past a hole, by seq. */
  held: Map<number, LogEntry>;
  /** The room's newest seq as the server last told it in a `head` (0: no word). */
  target: number;
  /**
   * The room's newest seq as a join or history answer gave it: the catch-up running then
   * is to reach it, so no wait is armed for it, but the catch-up goes round once more if it
   * ended short of it (see `behind`).
   */
  expected: number;
  timer: TimerHandle | null;
}

/**
 * A per-room reorder buffer in front of the local store. A live message that is next in
 * order (`seq = cursor + 1`) is handed on at once, with any held ones it unblocks; one past
 * a hole is held. A hole still open after HOLE_WAIT_MS is handed to the room's catch-up,
 * which fetches after the cursor (one run per room), and the held messages are stored
 * meanwhile so the user sees them. The server's word on a room's newest seq (a `head`
 * event, sent every 15–25 s and when a process's fan-out recovers) opens the same kind of
 * hole: a quiet room whose last message was lost in fan-out is repaired too.
 */
export class LiveOrder {
  readonly #deps: LiveOrderDeps;
  readonly #rooms = new Map<string, RoomOrder>();

  constructor(deps: LiveOrderDeps) {
    this.#deps = deps;
  }

  /** Live messages of one room, in any order. */
  receive(room: string, messages: readonly LogEntry[]): void {
    const order = this.#order(room);
    if (!order) {
      this.#deps.deliver(room, [...messages]);
      return;
    }
    const ready: LogEntry[] = [];
    for (const message of messages) {
      if (message.seq > order.handed) order.held.set(message.seq, message);
      // Inside a hole left to the catch-up: not awaited, but welcome before the fetch.
      else if (message.seq > order.cursor) ready.push(message);
    }
    let next = order.held.get(order.handed + 1);
    while (next) {
      ready.push(next);
      order.held.delete(next.seq);
      order.handed = next.seq;
      next = order.held.get(order.handed + 1);
    }
    ready.sort((a, b) => a.seq - b.seq);
    if (ready.length > 0) this.#deps.deliver(room, ready);
    this.#settle(room, order);
  }

  /** The server says the room's newest seq is `latestSeq`. */
  head(room: string, latestSeq: number): void {
    const order = this.#order(room);
    if (!order) return;
    order.target = Math.max(order.target, latestSeq);
    this.#settle(room, order);
  }

  /** A join or history answer says the room's newest seq is `latestSeq`. */
  expect(room: string, latestSeq: number): void {
    const order = this.#order(room);
    if (!order) return;
    order.expected = Math.max(order.expected, latestSeq);
    this.#settle(room, order);
  }

  /**
   * The room's cursor moved by other means (a catch-up page, an ack of this device's own
   * message, another tab): hands on what that unblocked.
   */
  cursorMoved(room: string): void {
    if (this.#rooms.has(room)) this.receive(room, []);
  }

  /**
   * Whether the room's cursor is still short of a seq the server sent or named: a catch-up
   * that ended there read its last page a moment too early (see CatchUp).
   */
  behind(room: string): boolean {
    const order = this.#rooms.get(room);
    const cursor = this.#deps.cursorOf(room);
    if (order === undefined || cursor === null) return false;
    return Math.max(order.handed, order.target, order.expected) > cursor;
  }

  /** Stops every wait (the engine is closing); what is held is fetched again next time. */
  close(): void {
    for (const order of this.#rooms.values())
      if (order.timer !== null) this.#deps.timers.clearTimeout(order.timer);
    this.#rooms.clear();
  }

  /** The room's state, brought up to its cursor; null when the room has no order to keep. */
  #order(room: string): RoomOrder | null {
    const cursor = this.#deps.cursorOf(room);
    if (cursor === null) {
      this.#drop(room);
      return null;
    }
    let order = this.#rooms.get(room);
    if (!order) {
      order = { cursor, handed: cursor, held: new Map(), target: 0, expected: 0, timer: null };
      this.#rooms.set(room, order);
    }
    order.cursor = cursor;
    // Catch-up and other tabs move the cursor too: what they stored is no longer awaited.
    if (cursor > order.handed) order.handed = cursor;
    for (const seq of order.held.keys()) if (seq <= order.handed) order.held.delete(seq);
    return order;
  }

  /**
   * Waits out an open hole (a new hole gets a wait of its own: the wait of one that closed
   * is dropped); forgets a room with nothing to wait for and nothing left to its catch-up.
   */
  #settle(room: string, order: RoomOrder): void {
    if (order.held.size > 0 || order.target > order.handed) {
      order.timer ??= this.#deps.timers.setTimeout(() => this.#expire(room), HOLE_WAIT_MS);
      return;
    }
    if (order.timer !== null) {
      this.#deps.timers.clearTimeout(order.timer);
      order.timer = null;
    }
    if (order.cursor >= Math.max(order.handed, order.expected)) this.#rooms.delete(room);
  }

  /** The hole stayed open: from here on it is the catch-up's to fill. */
  #expire(room: string): void {
    const before = this.#rooms.get(room);
    if (before) before.timer = null;
    const order = this.#order(room);
    if (!order) {
      // The room has no order to keep any more: what was held goes on as it is.
      if (before && before.held.size > 0) this.#deps.deliver(room, [...before.held.values()]);
      return;
    }
    const held = [...order.held.values()].sort((a, b) => a.seq - b.seq);
    const last = held.at(-1)?.seq ?? 0;
    // Stored past the hole, held messages keep the room's cursor open, and storing a gap
    // starts the room's catch-up (see RoomSync); only a newest seq beyond them needs asking.
    const repair = order.target > Math.max(order.handed, last);
    order.held.clear();
    order.handed = Math.max(order.handed, last, order.target);
    if (held.length > 0) this.#deps.deliver(room, held);
    if (repair) this.#deps.repair(room);
    this.#settle(room, order);
  }

  #drop(room: string): void {
    const order = this.#rooms.get(room);
    if (order?.timer != null) this.#deps.timers.clearTimeout(order.timer);
    this.#rooms.delete(room);
  }
}
