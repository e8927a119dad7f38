import type { ReceiptsEvent, RoomReceipts } from '../shared/protocol.ts';
import { receiptAckSchema } from '../shared/schemas.ts';
import type { Connection } from './connection.ts';
import type { LocalStore } from './local-store.ts';
import { type CursorPatch, dueReceipt, raiseCursors } from './room-meta.ts';
import type { TimerHandle, Timers } from './timers.ts';
import type { RoomMeta } from './types.ts';

/**
 * A cursor that moved waits this long for the next move before it goes out: a catch-up
 * of a thousand messages, or a scroll through a page, is one receipt, not one a row.
 */
export const RECEIPT_COALESCE_MS = 400;

/** A receipt the server did not take (busy, over budget, no answer) is sent again after this, unless it says. */
export const RECEIPT_RETRY_MS = 5_000;

export interface ReceiptSyncDeps {
  store: LocalStore;
  connection: Connection;
  timers: Timers;
  userId(): string;
  /** An open room's list entry; undefined when the room is not open here. */
  metaOf(room: string): RoomMeta | undefined;
  /** What the device holds of the room contiguously; null before its first join. */
  deliveredOf(room: string): number | null;
  /** Shows a room's new list entry. */
  setMeta(room: string, meta: RoomMeta): void;
  /** A room's entry was stored: the list (here and in the other tabs) reads it again. */
  onStored(room: string): void;
}

/**
 * Read receipts, one cursor pair per member per room. The user's own cursors are durable
 * before they are sent: `read` is raised in IndexedDB first, and what the server has
 * acknowledged is recorded beside it, so whatever is due after a reload or a lost ack goes
 * out again (the receipts' outbox, coalesced to one pair per room; the server keeps the
 * highest, so a repeat is harmless). Sent only on a link that joined the room.
 */
export class ReceiptSync {
  readonly #deps: ReceiptSyncDeps;
  /** Rooms joined on the current link. */
  readonly #joined = new Set<string>();
  readonly #scheduled = new Map<string, TimerHandle>();
  readonly #inFlight = new Set<string>();
  /** Stored-entry writes, one after another per engine, so each raises the last. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(deps: ReceiptSyncDeps) {
    this.#deps = deps;
  }

  /** The user has seen the room up to `seq` on screen. */
  markRead(room: string, seq: number): Promise<void> {
    const meta = this.#deps.metaOf(room);
    if (!meta || seq <= meta.read) return Promise.resolve();
    return this.#raise(room, { read: seq }).then(() => this.#schedule(room));
  }

  /**
   * A join succeeded: what the server holds of the user's and the others' cursors. For a
   * user new to the room, `history` is what it held when they came: shown, never unread.
   */
  joined(room: string, name: string, receipts: RoomReceipts, history = 0): Promise<void> {
    this.#joined.add(room);
    return this.#raise(
      room,
      {
        read: receipts.read,
        readAcked: receipts.read,
        deliveredAcked: receipts.delivered,
        othersDelivered: receipts.othersDelivered,
        othersRead: receipts.othersRead,
        ...(history > 0 ? { unreadFloor: history } : {}),
      },
      name,
    ).then(() => this.#schedule(room));
  }

  /** A member's cursors moved (the server's broadcast to the room). */
  heard(event: ReceiptsEvent): void {
    const mine = event.userId === this.#deps.userId();
    const patch: CursorPatch = mine
      ? { read: event.read, readAcked: event.read, deliveredAcked: event.delivered }
      : { othersDelivered: event.delivered, othersRead: event.read };
    void this.#raise(event.room, patch).catch(() => undefined);
  }

  /** The room's cursor moved: the device holds more, which the others may be told. */
  cursorMoved(room: string): void {
    this.#schedule(room);
  }

  /** The link dropped: every room is joined again on the next one. */
  disconnected(): void {
    this.#joined.clear();
    this.#inFlight.clear();
    for (const handle of this.#scheduled.values()) this.#deps.timers.clearTimeout(handle);
    this.#scheduled.clear();
  }

  /** The user left the room: nothing more is sent for it. */
  forget(room: string): void {
    this.#joined.delete(room);
    const handle = this.#scheduled.get(room);
    if (handle !== undefined) this.#deps.timers.clearTimeout(handle);
    this.#scheduled.delete(room);
  }

  /**
   * Shows the entry raised at once (a join's floor must hold before its history shows),
   * then raises the stored one (in one transaction, highest wins) and shows that: it holds
   * what the other tabs raised too.
   */
  #raise(room: string, patch: CursorPatch, name?: string): Promise<void> {
    const shown = this.#deps.metaOf(room);
    if (shown) {
      const raised = named(raiseCursors(shown, patch), name);
      if (raised !== shown) this.#deps.setMeta(room, raised);
    }
    const write = this.#writes.then(async () => {
      if (!this.#deps.metaOf(room)) return;
      const stored = await this.#deps.store.updateRoomMeta(room, (current) => {
        if (!current) return undefined; // left meanwhile
        return named(raiseCursors(current, patch), name);
      });
      if (stored && this.#deps.metaOf(room)) {
        this.#deps.setMeta(room, stored);
        this.#deps.onStored(room);
      }
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }

  #schedule(room: string, delayMs = RECEIPT_COALESCE_MS): void {
    if (this.#scheduled.has(room) || !this.#joined.has(room)) return;
    const handle = this.#deps.timers.setTimeout(() => {
      this.#scheduled.delete(room);
      void this.#send(room);
    }, delayMs);
    this.#scheduled.set(room, handle);
  }

  async #send(room: string): Promise<void> {
    const meta = this.#deps.metaOf(room);
    const delivered = this.#deps.deliveredOf(room);
    if (!meta || delivered === null || this.#inFlight.has(room) || !this.#joined.has(room)) return;
    const due = dueReceipt(meta, delivered);
    if (!due) return;
    this.#inFlight.add(room);
    let retryMs: number | null = null;
    try {
      const ack = await this.#deps.connection.request(
        'receipt',
        { room, ...due },
        receiptAckSchema,
      );
      if (ack.ok) await this.#raise(room, { readAcked: ack.read, deliveredAcked: ack.delivered });
      // Busy or over budget: asked again after the wait it names. (Refused for good, say
      // the room was left on another device: the next join, if any, says so.)
      else if (ack.error.code === 'rate_limited' || ack.error.code === 'internal') {
        retryMs = ack.error.retryAfterMs ?? RECEIPT_RETRY_MS;
      } else return;
    } catch {
      // No answer in time on a link still up: again later. A dropped link ends the room's
      // join, and the next join sends what is still due.
      retryMs = RECEIPT_RETRY_MS;
    } finally {
      this.#inFlight.delete(room);
    }
    if (retryMs !== null) return this.#schedule(room, retryMs);
    // Moved again while this one was on its way. (What the server would not take, a
    // cursor above its log's head, is not asked again until something moves.)
    const now = this.#deps.metaOf(room);
    const next = now && dueReceipt(now, this.#deps.deliveredOf(room) ?? 0);
    if (next && (next.read !== due.read || next.delivered !== due.delivered)) this.#schedule(room);
  }
}

/** `meta` under `name`, if one is given and it differs. */
function named(meta: RoomMeta, name: string | undefined): RoomMeta {
  return name !== undefined && name !== meta.name ? { ...meta, name } : meta;
}
