import { isOp, type JoinAck, type LogEntry, type StoredOp } from '../shared/protocol.ts';
import { historyAckSchema, joinAckSchema } from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import type { Settlement } from './ack-settlement.ts';
import { CatchUp, type HistoryPage } from './catch-up.ts';
import type { Connection } from './connection.ts';
import { LiveOrder } from './live-order.ts';
import { newRoomMeta } from './local-db.ts';
import { type FailedOp, type LocalStore, UNREAD_CONTEXT } from './local-store.ts';
import { type OpenRoom, OpenRooms, type RoomSnapshot } from './open-rooms.ts';
import { askPatiently, type RefusableAck } from './patient-request.ts';
import type { MessagesChange, ProfileChannel } from './profile-channel.ts';
import { RequestSlots } from './request-slots.ts';
import { unreadAfter } from './room-meta.ts';
import { RoomView } from './room-view.ts';
import { advanceCursor, hasGap } from './seq-cursor.ts';
import type { Timers } from './timers.ts';
import type {
  FailedMessage,
  LocalMessage,
  PendingMessage,
  RoomMeta,
  SentMessage,
} from './types.ts';

/** What one commit records (see LocalStore.commit). */
interface Change {
  sent?: readonly SentMessage[];
  /** Which of `sent` this device holds as pending or failed (see Commit.localIds). */
  localIds?: ReadonlySet<string>;
  failed?: readonly FailedMessage[];
  ops?: readonly StoredOp[];
  failedOps?: readonly FailedOp[];
  settledOutboxKeys?: readonly number[];
}

/** A device that opens a room for the first time loads this much recent history. */
export const INITIAL_HISTORY_MESSAGES = 200;
/**
 * Most joins and catch-up pages one tab has in flight at once, across its rooms. The server
 * drops a socket with more than MAX_QUEUED_REQUESTS (64) requests queued; beside at most
 * MAX_WINDOW_BATCHES (10) send batches this leaves wide room, however many rooms are open.
 */
export const MAX_ROOM_REQUESTS_IN_FLIGHT = 8;

export interface RoomSyncDeps {
  store: LocalStore;
  connection: Connection;
  /** The other tabs of this profile: told of what this tab queues and settles. */
  channel: ProfileChannel;
  historyPageSize: number;
  /** Waits out `rate_limited` and `internal` answers to joins and history pages. */
  timers: Timers;
  /** The user's id ('' before the first sign-up). */
  userId(): string;
  /** Something the UI shows changed. */
  onChange(): void;
  /**
   * Outbox entries were settled, here or in another tab: the outbox count changed. Reads
   * it again; `show`, if given, runs with the new count set and before anyone is told, so
   * that a message shows sent together with the count that no longer holds it.
   */
  onOutboxSettled(show?: () => void): Promise<void>;
  /**
   * How many of a room's newest sent messages a view holds when it opens, and goes back
   * to when the user is back at the newest (see `showLatest`).
   */
  windowMessages: number;
  /** The most messages a view holds to keep every unread one (see UNREAD_WINDOW_MAX). */
  unreadWindowMax: number;
  now(): number;
  /**
   * A join succeeded: the server's word on the room's name and receipts. `firstVisit`: the
   * first join of the room on this device.
   */
  onJoined(room: string, ack: JoinedRoom, firstVisit: boolean): void;
  /** The room's cursor moved: the device holds more (a delivery receipt may be due). */
  onCursorMoved(room: string): void;
  /** The room list's contents changed (a room stored more, or joined the list). */
  onStored(room: string): void;
}

/** What a successful join told of the room. */
export type JoinedRoom = Extract<JoinAck, { ok: true }>;

/**
 * The rooms this device keeps in sync: each one's view, cursor and floor, loaded from
 * IndexedDB and then kept up with the server (join, catch-up, live messages, history).
 * Every local write goes through one queue, so each reads the cursor the previous one left.
 */
export class RoomSync {
  readonly #deps: RoomSyncDeps;
  readonly #rooms: OpenRooms;
  readonly #catchUp: CatchUp;
  /** Live messages wait here for their predecessors (see LiveOrder). */
  readonly #live: LiveOrder;
  readonly #writes = new SerialQueue();
  /** Joins and catch-up pages wait here for a turn on the wire; the waits between asks do not. */
  readonly #roomRequests = new RequestSlots(MAX_ROOM_REQUESTS_IN_FLIGHT);
  /** Rooms being loaded from IndexedDB, so two quick opens share one load. */
  readonly #opening = new Map<string, Promise<void>>();
  /**
   * Rooms the user left in this session (here or in another tab), until opened again:
   * what still arrives for them (a live message on a socket that has not left yet, a page
   * or an ack already on its way) is not written back to the device.
   */
  readonly #left = new Set<string>();
  /** Ids other tabs changed, by room, that this tab has not read back yet. */
  #otherTabIds = new Map<string, Set<string>>();
  /** The queued read of those ids; changes heard before it starts join it. */
  #otherTabRead: Promise<void> | null = null;

  constructor(deps: RoomSyncDeps) {
    this.#deps = deps;
    this.#rooms = new OpenRooms(deps.onChange);
    this.#catchUp = new CatchUp({
      pageSize: deps.historyPageSize,
      cursorOf: (room) => this.#rooms.get(room)?.cursor.cursor ?? 0,
      hasGap: (room) => {
        const open = this.#rooms.get(room);
        return open !== undefined && (hasGap(open.cursor) || this.#live.behind(room));
      },
      fetchPage: (room, after) => this.#fetchPageAfter(room, after),
      storePage: (room, messages) => this.storeSent(room, messages),
      onProgress: (room, remaining) =>
        this.#rooms.update(room, (open) => ({ ...open, catchingUp: remaining })),
    });
    this.#live = new LiveOrder({
      timers: deps.timers,
      cursorOf: (room) => {
        const open = this.#rooms.get(room);
        return open?.known ? open.cursor.cursor : null;
      },
      deliver: (room, messages) => void this.storeSent(room, messages),
      repair: (room) => {
        if (this.#deps.connection.connected) void this.#catchUp.run(room);
      },
    });
  }

  snapshot(room: string): RoomSnapshot {
    return this.#rooms.snapshot(room);
  }

  /** A pending or failed message of an open room. */
  findLocal(room: string, id: string): PendingMessage | FailedMessage | undefined {
    return this.#rooms.get(room)?.view.findLocal(id);
  }

  /** A message of an open room, whatever its status. */
  find(room: string, id: string): LocalMessage | undefined {
    return this.#rooms.get(room)?.view.find(id);
  }

  /** Loads a room from the device (once), then joins it if connected. */
  async open(room: string, invite: string | undefined): Promise<void> {
    this.#left.delete(room);
    const loading = this.#opening.get(room);
    if (loading) await loading;
    const existing = this.#rooms.get(room);
    if (existing) {
      if (invite && existing.denied) {
        this.#rooms.update(room, (open) => ({ ...open, invite, denied: null }));
        if (this.#deps.connection.connected) void this.join(room);
      }
      return;
    }
    const load = this.#load(room, invite);
    this.#opening.set(room, load);
    try {
      await load;
    } finally {
      this.#opening.delete(room);
    }
  }

  /**
   * Joins every open room (a new link): each then catches up from its cursor. The joins
   * queue for MAX_ROOM_REQUESTS_IN_FLIGHT slots, so a hundred rooms do not flood the socket.
   */
  joinAll(): void {
    for (const room of this.#rooms.names()) void this.join(room);
  }

  /**
   * Pages older messages into the view (scrolling up): from this device while it holds
   * more, then from the server. Resolves false when there is nothing older, or it is on
   * the server and there is no connection.
   */
  async loadOlder(room: string, limit: number): Promise<boolean> {
    const open = this.#rooms.get(room);
    if (!open) return false;
    if (open.low > 0) return this.#loadOlderStored(room, open.low, limit);
    if (!open.known || open.floor <= 1 || !this.#deps.connection.connected) return false;
    // Not queued for a slot: the user waits on it (one click, one page), and the bound on
    // joins and catch-ups leaves room for it.
    const ack = await this.#patiently(() =>
      this.#deps.connection.request(
        'history',
        { room, before: open.floor, limit },
        historyAckSchema,
      ),
    );
    if (!ack.ok) return false;
    const floor = ack.messages[0]?.seq ?? 1;
    await this.#writes.push(async () => {
      this.#rooms.update(room, (current) => ({
        ...current,
        floor: Math.min(current.floor, floor),
        held: true,
      }));
      await this.#storeSent(room, ack.messages);
    });
    return true;
  }

  async #loadOlderStored(room: string, low: number, limit: number): Promise<boolean> {
    let added = 0;
    // Read in the write queue, so that no commit lands between the read and the view's new
    // bottom: one storing a message in that stretch would leave it out, below the window.
    await this.#writes.push(async () => {
      if (this.#rooms.get(room)?.low !== low) return; // a trim or another page moved it
      const older = await this.#deps.store.loadBelow(room, low, limit);
      this.#rooms.update(room, (current) => {
        const first = older.sent[0];
        return {
          ...current,
          view: current.view.withSent(older.sent),
          low: older.exhausted || !first ? 0 : first.seq,
          held: true,
        };
      });
      added = older.sent.length > 0 ? older.sent.length : -1;
    });
    // Nothing older on the device: from the server, then.
    return added >= 0 || this.loadOlder(room, limit);
  }

  /**
   * The user is back at the newest messages: the view goes back to its window, so memory
   * follows what is on screen, not how far the user once scrolled.
   */
  showLatest(room: string): void {
    const open = this.#rooms.get(room);
    if (!open || (!open.held && open.view.sent.length <= this.#deps.windowMessages)) return;
    this.#rooms.update(room, (current) => this.#trimmed({ ...current, held: false }, 1));
  }

  /**
   * The user scrolled away from the newest messages: the view keeps what it holds (rows
   * above the viewport must not vanish under the reader) until `showLatest`.
   */
  holdWindow(room: string): void {
    const open = this.#rooms.get(room);
    if (open && !open.held) this.#rooms.update(room, (current) => ({ ...current, held: true }));
  }

  /**
   * The room with its view cut back to the window, if it may and holds more than `slack`
   * windows (2 as messages arrive, so that a busy room is cut now and then, not at each).
   * Unread messages stay (up to `unreadWindowMax`): a room left in the background collects
   * them, and opens with the "new messages" line above the first.
   */
  #trimmed(open: OpenRoom, slack = 2): OpenRoom {
    const { windowMessages, unreadWindowMax } = this.#deps;
    const { sent } = open.view;
    if (open.held || sent.length <= windowMessages * slack) return open;
    const unread = countAbove(sent, unreadAfter(open.meta));
    const keep = Math.max(windowMessages, Math.min(unreadWindowMax, unread + UNREAD_CONTEXT));
    if (sent.length <= keep) return open;
    const view = open.view.keepNewest(keep);
    return { ...open, view, low: view.sent[0]?.seq ?? 0 };
  }

  /** Stops keeping a room (the user left it): it reads as empty from then on. */
  forget(room: string): void {
    this.#left.add(room);
    this.#rooms.remove(room);
  }

  /** Replaces an open room's list entry (its name and receipts). */
  setMeta(room: string, meta: RoomMeta): void {
    this.#rooms.update(room, (open) => ({ ...open, meta }));
  }

  /** An open room's list entry. */
  metaOf(room: string): RoomMeta | undefined {
    return this.#rooms.get(room)?.meta;
  }

  /** The highest seq an open room holds contiguously, or null before its first join. */
  deliveredOf(room: string): number | null {
    const open = this.#rooms.get(room);
    return open?.known ? open.cursor.cursor : null;
  }

  /** Shows a message that was just queued (or queued again), here and in the other tabs. */
  showPending(message: PendingMessage): void {
    this.#rooms.update(message.room, (open) => ({ ...open, view: open.view.withLocal(message) }));
    this.#deps.channel.post({ kind: 'messages', room: message.room, ids: [message.id] });
  }

  /**
   * Runs an edit or delete typed here (`change` answers the message as it now stands, or
   * undefined when it is gone) in the write queue, so that no commit running meanwhile
   * shows an older copy over it; then shows it, here and in the other tabs.
   */
  changeQueued(
    room: string,
    id: string,
    change: () => Promise<LocalMessage | undefined>,
  ): Promise<void> {
    return this.#writes.push(async () => {
      const message = await change();
      this.#rooms.update(room, (open) => {
        if (!message) return { ...open, view: open.view.without(id) };
        // A failed message queued again is pending now: shown where the outbox puts it.
        const view = message.status === 'pending' ? open.view.withLocal(message) : open.view;
        return { ...open, view: view.withChanged([message]) };
      });
      this.#deps.channel.post({ kind: 'messages', room, ids: [id] });
    });
  }

  /**
   * Another tab of this profile queued, settled or discarded these messages: show what
   * IndexedDB holds for them now. Nothing is written: that tab already did. A burst (300
   * messages typed, then settled batch by batch) is read back in one go: one read per
   * change left a busy tab hundreds of re-renders behind the outbox it counted.
   */
  applyOtherTab(change: MessagesChange): Promise<void> {
    let ids = this.#otherTabIds.get(change.room);
    if (!ids) {
      ids = new Set();
      this.#otherTabIds.set(change.room, ids);
    }
    for (const id of change.ids) ids.add(id);
    this.#otherTabRead ??= this.#writes.push(async () => {
      // Changes heard from here on wait for the next read: this one may have read past them.
      const changed = this.#otherTabIds;
      this.#otherTabIds = new Map();
      this.#otherTabRead = null;
      const shows: (() => void)[] = [];
      for (const [room, roomIds] of changed) shows.push(await this.#readBack(room, [...roomIds]));
      // Queued, settled or discarded elsewhere: the outbox count moved, once for the burst,
      // and is shown with the messages that moved it (never "sent" beside a count of 1).
      await this.#deps.onOutboxSettled(() => {
        for (const show of shows) show();
      });
    });
    return this.#otherTabRead;
  }

  /** Live log entries from the server, in whatever order they came: stored in order. */
  receiveLive(room: string, messages: readonly LogEntry[]): void {
    this.#live.receive(room, messages);
  }

  /** The server's word on a room's newest seq: a hole up to it is fetched if it stays. */
  receiveHead(room: string, latestSeq: number): void {
    this.#live.head(room, latestSeq);
  }

  /** Stops the waits for holes (the engine is closing). */
  close(): void {
    this.#live.close();
  }

  /** Stores server-confirmed log entries (a history page, or live ones in order). */
  storeSent(room: string, messages: readonly LogEntry[]): Promise<void> {
    return this.#writes.push(() => this.#storeSent(room, messages));
  }

  /** Records what one `send` ack settled, in one transaction; tells the other tabs. */
  applySettlement(room: string, settlement: Settlement): Promise<void> {
    return this.#writes.push(async () => {
      const ids = await this.#commit(room, settlement);
      if (ids.length > 0) this.#deps.channel.post({ kind: 'messages', room, ids });
    });
  }

  /** Resolves once every local write queued so far is done. */
  async drain(): Promise<void> {
    await this.#writes.push(async () => undefined);
  }

  /** Reads what another tab changed; answers how to show it. */
  async #readBack(room: string, ids: readonly string[]): Promise<() => void> {
    if (!this.#rooms.has(room)) return () => undefined;
    const stored = await this.#deps.store.getMessages(ids);
    return () => this.#showRead(room, ids, stored);
  }

  #showRead(room: string, ids: readonly string[], stored: readonly (LocalMessage | undefined)[]) {
    this.#rooms.update(room, (open) => {
      let view = open.view;
      const sent: SentMessage[] = [];
      stored.forEach((message, index) => {
        if (message?.status === 'sent') {
          if (message.seq >= open.low) sent.push(message);
        } else if (!message) view = view.without(ids[index] as string);
        else if (!view.hasSent(message.id)) view = view.withLocal(message);
      });
      if (sent.length === 0) return { ...open, view };
      const seqs = sent.map((message) => message.seq);
      const cursor = open.known ? advanceCursor(open.cursor, seqs) : open.cursor;
      return this.#trimmed({ ...open, view: view.withSent(sent), cursor });
    });
    this.#live.cursorMoved(room);
    this.#deps.onStored(room);
  }

  async #load(room: string, invite: string | undefined): Promise<void> {
    const { windowMessages, unreadWindowMax } = this.#deps;
    const stored = await this.#deps.store.loadWindow(room, windowMessages, unreadWindowMax);
    if (this.#left.has(room)) return; // left while it loaded
    const view = RoomView.from([...stored.sent, ...stored.local]);
    const cursor = stored.record?.cursor ?? 0;
    const ahead = new Set(
      view.sent.filter((message) => message.seq > cursor).map((message) => message.seq),
    );
    const meta = stored.meta ?? newRoomMeta(room, room, this.#deps.now());
    this.#rooms.add(room, {
      view,
      cursor: { cursor, ahead },
      floor: stored.record?.floor ?? 0,
      known: stored.record !== undefined,
      invite,
      catchingUp: null,
      denied: null,
      low: stored.full ? 0 : (stored.sent[0]?.seq ?? 0),
      held: false,
      meta,
    });
    // Added before anything is awaited: a message queued from here on finds the room open.
    if (!stored.meta) void this.#list(room, meta);
    if (this.#deps.connection.connected) void this.join(room);
  }

  /** A room opened for the first time joins the user's list (or finds another tab put it there). */
  async #list(room: string, meta: RoomMeta): Promise<void> {
    const stored = await this.#deps.store
      .updateRoomMeta(room, (current) => current ?? meta)
      .catch(() => undefined);
    if (stored && stored !== meta) this.setMeta(room, stored);
    this.#deps.onStored(room);
  }

  async join(room: string): Promise<void> {
    const invite = this.#rooms.get(room)?.invite;
    let latestSeq: number;
    let joined: JoinedRoom;
    try {
      const ack = await this.#patiently(() =>
        this.#roomRequests.run(() =>
          this.#deps.connection.request('join', { room, invite }, joinAckSchema),
        ),
      );
      // Only a refusal that asking again cannot change gets here (forbidden, invalid_room…):
      // passing failures were waited out, with the room left as it was, not denied.
      if (!ack.ok) {
        this.#rooms.update(room, (open) => ({ ...open, denied: ack.error.message }));
        return;
      }
      latestSeq = ack.latestSeq;
      joined = ack;
    } catch {
      return; // the next connect joins again
    }
    const firstVisit = this.#rooms.get(room)?.known === false;
    this.#rooms.update(room, (open) => {
      const joined = { ...open, invite: undefined, denied: null };
      if (open.known) return joined;
      // First visit on this device: start from recent history, not from the beginning. It
      // is catching up from now, not from its first page: the list is empty till then.
      const start = Math.max(0, latestSeq - INITIAL_HISTORY_MESSAGES);
      const cursor = advanceCursor({ cursor: start, ahead: new Set() }, open.cursor.ahead);
      const behind = latestSeq - cursor.cursor;
      return {
        ...joined,
        cursor,
        floor: start + 1,
        known: true,
        catchingUp: behind > 0 ? behind : open.catchingUp,
      };
    });
    this.#live.expect(room, latestSeq);
    this.#deps.onJoined(room, joined, firstVisit);
    await this.#catchUp.run(room);
  }

  async #fetchPageAfter(room: string, after: number): Promise<HistoryPage> {
    const limit = this.#deps.historyPageSize;
    const ack = await this.#patiently(() =>
      this.#roomRequests.run(() =>
        this.#deps.connection.request('history', { room, after, limit }, historyAckSchema),
      ),
    );
    if (!ack.ok) throw new Error(`history refused: ${ack.error.code}`);
    this.#live.expect(room, ack.latestSeq);
    return ack;
  }

  /**
   * A join or a history page, asked again after each `rate_limited` or `internal` answer's
   * wait: a budget the server enforces, or a store briefly locked, is a pause, never a
   * broken room.
   */
  #patiently<T extends RefusableAck>(ask: () => Promise<T>): Promise<T> {
    return askPatiently(ask, {
      timers: this.#deps.timers,
      connected: () => this.#deps.connection.connected,
    });
  }

  async #storeSent(room: string, entries: readonly LogEntry[]): Promise<void> {
    const open = this.#rooms.get(room);
    // Live messages and pages come only for rooms this tab opened: one it no longer has open
    // was left (a socket not told yet, a page already on its way), and stays off the device.
    if (entries.length === 0 || !open) return;
    const sent: SentMessage[] = [];
    const ops: StoredOp[] = [];
    const settledOutboxKeys: number[] = [];
    const localIds = new Set<string>();
    const userId = this.#deps.userId();
    for (const entry of entries) {
      if (isOp(entry)) {
        ops.push(entry);
        continue;
      }
      sent.push({ ...entry, status: 'sent' });
      // Our own pending message came back (another tab sent it): it must not go out again.
      // An operation of ours that came back is settled by the store, which finds its key.
      const local = open?.view.findLocal(entry.id);
      // The user's own may be pending here unseen (queued in another tab a moment ago).
      if (local || entry.authorId === userId) localIds.add(entry.id);
      if (local?.status === 'pending') settledOutboxKeys.push(local.order);
    }
    await this.#commit(room, { sent, localIds, ops, settledOutboxKeys });
  }

  /**
   * One transaction for what the server confirmed or refused; then the cursor and view.
   * Answers the ids of the messages the commit changed or removed.
   */
  async #commit(room: string, change: Change): Promise<string[]> {
    const { sent = [], failed = [], ops = [], failedOps = [], settledOutboxKeys = [] } = change;
    // An ack for a batch already on its way when the user left the room: its messages
    // went with the room (and its outbox entries), and are not brought back.
    if (this.#left.has(room)) return [];
    // Settled from an ack, every sent message was pending here a moment ago.
    const localIds = change.localIds ?? new Set(sent.map((message) => message.id));
    if (
      sent.length + failed.length + ops.length + failedOps.length + settledOutboxKeys.length ===
      0
    ) {
      return [];
    }
    const open = this.#rooms.get(room);
    const seqs = [...sent, ...ops].map((entry) => entry.seq);
    const cursor = open?.known ? advanceCursor(open.cursor, seqs) : undefined;
    const { changed, removed } = await this.#deps.store.commit({
      sent,
      localIds,
      failed,
      ops,
      failedOps,
      settledOutboxKeys,
      room: open && cursor ? { room, cursor: cursor.cursor, floor: open.floor } : undefined,
    });
    // Operations and refusals of ours settle outbox entries the store found by itself.
    if (settledOutboxKeys.length + ops.length + failedOps.length > 0) {
      await this.#deps.onOutboxSettled();
    }
    const arrived = new Set(sent.map((message) => message.id));
    const refused = new Set(failed.map((message) => message.id));
    this.#rooms.update(room, (current) => {
      const newSent: SentMessage[] = [];
      const others: LocalMessage[] = [];
      for (const message of changed) {
        if (message.status === 'sent' && arrived.has(message.id)) {
          // Below the window (a catch-up filling a hole under it): stored, read on demand.
          if (message.seq >= current.low) newSent.push(message);
        } else if (!refused.has(message.id)) others.push(message);
      }
      let view = current.view.withSent(newSent).withChanged(others);
      for (const id of removed) view = view.without(id);
      for (const message of changed) {
        if (message.status === 'failed' && refused.has(message.id) && !view.hasSent(message.id)) {
          view = view.withLocal(message);
        }
      }
      return this.#trimmed({ ...current, view, cursor: cursor ?? current.cursor });
    });
    if (seqs.length > 0) {
      this.#live.cursorMoved(room);
      this.#deps.onCursorMoved(room);
    }
    this.#deps.onStored(room);
    if (cursor && hasGap(cursor) && this.#deps.connection.connected) void this.#catchUp.run(room);
    return [...changed.map((message) => message.id), ...removed];
  }
}

/** How many of `sent` (sorted, seqs growing) are above `seq`: counted from the newest end. */
function countAbove(sent: readonly SentMessage[], seq: number): number {
  let count = 0;
  for (let i = sent.length - 1; i >= 0 && (sent[i]?.seq ?? 0) > seq; i--) count++;
  return count;
}
