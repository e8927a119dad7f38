import { PERMANENT_MESSAGE_ERRORS } from '../shared/errors.ts';
import { MAX_HISTORY_PAGE, ROOM_ID_PATTERN } from '../shared/limits.ts';
import type { SendAck, StoredMessage } from '../shared/protocol.ts';
import { checkBody, historyAckSchema, joinAckSchema, sendAckSchema } from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import { CatchUp } from './catch-up.ts';
import {
  Connection,
  type ConnectionOptions,
  type ConnectionState,
  type ConnectionStatus,
} from './connection.ts';
import { Flusher } from './flusher.ts';
import { newMessageId } from './ids.ts';
import { Listeners } from './listeners.ts';
import type { BatchCaps } from './local-store.ts';
import { LocalStore } from './local-store.ts';
import { RoomView } from './room-view.ts';
import { advanceCursor, hasGap, type SeqCursor } from './seq-cursor.ts';
import type {
  FailedMessage,
  Identity,
  LocalMessage,
  OutboxEntry,
  PendingMessage,
  SentMessage,
} from './types.ts';

/** How long a request may wait for its ack before the link is presumed half-open. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** A device that opens a room for the first time loads this much recent history. */
export const INITIAL_HISTORY_MESSAGES = 200;
export const OLDER_PAGE_MESSAGES = 100;

export interface EngineOptions extends Omit<ConnectionOptions, 'auth'> {
  /** IndexedDB database name; one per user profile (tests use one per simulated device). */
  dbName?: string;
  flushWindowBatches?: number;
  batchCaps?: BatchCaps;
  historyPageSize?: number;
  requestTimeoutMs?: number;
  /** Another tab holds the database at an older version; see local-db.ts. */
  onStorageBlocked?: () => void;
}

/** What the UI shows of one room. A new object exactly when something in it changed. */
export interface RoomSnapshot {
  room: string;
  messages: readonly LocalMessage[];
  /** Messages still to fetch while catching up, or null when caught up. */
  catchingUp: number | null;
  /** Older history exists on the server below what is stored here. */
  hasOlder: boolean;
}

/** A caller's mistake: nothing was queued. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

interface OpenRoom {
  view: RoomView;
  cursor: SeqCursor;
  /** Lowest seq stored contiguously up to the cursor; 0 until the first join. */
  floor: number;
  known: boolean;
  catchingUp: number | null;
  snapshot: RoomSnapshot;
}

/**
 * The sync engine: durable outbox, flusher, catch-up and merged room views over one
 * connection. Framework-free; the UI reads it through `subscribe` and the getters.
 */
export class Engine {
  readonly #store: LocalStore;
  readonly #connection: Connection;
  readonly #flusher: Flusher;
  readonly #catchUp: CatchUp;
  readonly #writes = new SerialQueue();
  readonly #listeners = new Listeners();
  readonly #rooms = new Map<string, OpenRoom>();
  readonly #clock: () => number;
  readonly #requestTimeoutMs: number;
  readonly #disposers: (() => void)[] = [];
  #identity: Identity | null;
  #outboxCount: number;
  #destroyed = false;
  #lastStatus: ConnectionStatus = 'connecting';

  private constructor(
    store: LocalStore,
    identity: Identity | null,
    outboxCount: number,
    options: EngineOptions,
  ) {
    this.#store = store;
    this.#identity = identity;
    this.#outboxCount = outboxCount;
    this.#clock = options.clock ?? Date.now;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const pageSize = options.historyPageSize ?? MAX_HISTORY_PAGE;

    this.#connection = new Connection({
      ...options,
      auth: () => ({ name: this.#identity?.name ?? '' }),
    });
    this.#flusher = new Flusher(
      store,
      {
        isConnected: () => this.#connection.connected,
        sendBatch: (batch) =>
          this.#connection.request('send', batch, sendAckSchema, this.#requestTimeoutMs),
        recycle: () => this.#connection.reconnectNow(),
      },
      (entries, ack) => this.#writes.push(() => this.#settle(entries, ack)),
      { windowBatches: options.flushWindowBatches, caps: options.batchCaps },
    );
    this.#catchUp = new CatchUp({
      pageSize,
      cursorOf: (room) => this.#rooms.get(room)?.cursor.cursor ?? 0,
      fetchPage: async (room, after) => {
        const ack = await this.#connection.request(
          'history',
          { room, after, limit: pageSize },
          historyAckSchema,
          this.#requestTimeoutMs,
        );
        if (!ack.ok) throw new Error(`history refused: ${ack.error.code}`);
        return ack;
      },
      storePage: (room, messages) => this.#writes.push(() => this.#storeSent(room, messages)),
      onProgress: (room, remaining) =>
        this.#update(room, (open) => ({ ...open, catchingUp: remaining })),
    });

    this.#disposers.push(
      this.#connection.subscribe((state) => this.#onConnectionState(state)),
      this.#connection.onMessages((event) => {
        void this.#writes.push(() => this.#storeSent(event.room, event.messages));
      }),
    );
    if (identity) this.#connection.start();
  }

  /** Opens the local database and, if a name was picked before, connects. */
  static async create(options: EngineOptions): Promise<Engine> {
    const store = await LocalStore.open(options.dbName ?? 'ferry', {
      onBlocked: options.onStorageBlocked,
    });
    const [identity, outboxCount] = await Promise.all([store.getIdentity(), store.outboxCount()]);
    return new Engine(store, identity ?? null, outboxCount, options);
  }

  // ---- reading -------------------------------------------------------------

  subscribe(listener: () => void): () => void {
    return this.#listeners.add(listener);
  }

  get identity(): Identity | null {
    return this.#identity;
  }

  get connection(): ConnectionState {
    return this.#connection.state;
  }

  /** Messages waiting in the outbox, across rooms. */
  get outboxCount(): number {
    return this.#outboxCount;
  }

  /** The room's snapshot; rooms not opened yet read as empty. */
  room(room: string): RoomSnapshot {
    return this.#rooms.get(room)?.snapshot ?? emptySnapshot(room);
  }

  // ---- acting --------------------------------------------------------------

  /** Picks the display name (first visit) and connects. */
  async setIdentity(name: string): Promise<void> {
    const identity = { name: name.trim() };
    await this.#store.setIdentity(identity);
    const first = this.#identity === null;
    this.#identity = identity;
    this.#listeners.emit();
    if (first) this.#connection.start();
    else this.#connection.reconnectNow();
  }

  /** Loads a room from the device, then keeps it in sync while connected. */
  async openRoom(room: string): Promise<void> {
    assertRoom(room);
    if (this.#rooms.has(room)) return;
    const stored = await this.#store.loadRoom(room);
    const view = RoomView.from(stored.messages);
    const cursor = stored.record?.cursor ?? 0;
    const ahead = new Set(
      view.sent.filter((message) => message.seq > cursor).map((message) => message.seq),
    );
    this.#rooms.set(room, {
      view,
      cursor: { cursor, ahead },
      floor: stored.record?.floor ?? 0,
      known: stored.record !== undefined,
      catchingUp: null,
      snapshot: emptySnapshot(room),
    });
    this.#update(room, (open) => open);
    if (this.#connection.connected) void this.#join(room);
  }

  /**
   * Queues a message. Resolves once it is in the IndexedDB outbox, so it survives a reload
   * from then on; it shows as pending at once and goes out when the link allows.
   */
  async send(room: string, body: string): Promise<PendingMessage> {
    assertRoom(room);
    if (checkBody(body) === 'body_empty') throw new InvalidInputError('a message needs some text');
    if (!this.#identity) throw new InvalidInputError('pick a name before sending');
    const pending = await this.#store.enqueue({
      id: newMessageId(),
      room,
      author: this.#identity.name,
      body,
      createdAt: this.#clock(),
    });
    this.#outboxCount += 1;
    this.#update(room, (open) => ({ ...open, view: open.view.withLocal(pending) }));
    this.#flusher.wake();
    return pending;
  }

  /** Puts a failed message back in the outbox (at the end). */
  async retry(room: string, id: string): Promise<void> {
    const failed = this.#rooms.get(room)?.view.findLocal(id);
    if (failed?.status !== 'failed') return;
    const pending = await this.#store.requeue(failed);
    this.#outboxCount += 1;
    this.#update(room, (open) => ({ ...open, view: open.view.withLocal(pending) }));
    this.#flusher.wake();
  }

  /** Deletes a failed message; pending ones cannot be taken back (they may be stored already). */
  async discard(room: string, id: string): Promise<void> {
    const failed = this.#rooms.get(room)?.view.findLocal(id);
    if (failed?.status !== 'failed') return;
    await this.#store.deleteMessage(id);
    this.#update(room, (open) => ({ ...open, view: open.view.without(id) }));
  }

  /** Connects at once, with the backoff reset. */
  reconnectNow(): void {
    this.#connection.reconnectNow();
  }

  /** Stops syncing and closes the database. Queued messages stay queued for the next start. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#flusher.stop();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#connection.destroy();
    await this.#writes.push(async () => undefined);
    this.#store.close();
    this.#listeners.clear();
  }

  // ---- internals -------------------------------------------------------------

  #onConnectionState(state: ConnectionState): void {
    const previous = this.#lastStatus;
    this.#lastStatus = state.status;
    if (state.status !== previous) {
      // Every new link starts from the head of the outbox and catches every room up.
      this.#flusher.reset();
      if (state.status === 'connected') {
        for (const room of this.#rooms.keys()) void this.#join(room);
        this.#flusher.wake();
      }
    }
    this.#listeners.emit();
  }

  async #join(room: string): Promise<void> {
    let latestSeq: number;
    try {
      const ack = await this.#connection.request(
        'join',
        { room },
        joinAckSchema,
        this.#requestTimeoutMs,
      );
      if (!ack.ok) return;
      latestSeq = ack.latestSeq;
    } catch {
      return; // the next connect joins again
    }
    const open = this.#rooms.get(room);
    if (!open) return;
    if (!open.known) {
      // First visit on this device: start from recent history, not from the beginning.
      const start = Math.max(0, latestSeq - INITIAL_HISTORY_MESSAGES);
      const cursor = advanceCursor({ cursor: start, ahead: new Set() }, open.cursor.ahead);
      this.#update(room, (current) => ({ ...current, cursor, floor: start + 1, known: true }));
    }
    await this.#catchUp.run(room);
  }

  /** Applies one `send` ack: sent and failed messages and the outbox, in one transaction. */
  async #settle(entries: readonly OutboxEntry[], ack: SendAck): Promise<void> {
    const first = entries[0];
    if (!first) return;
    const room = first.room;
    const author = this.#identity?.name ?? '';
    const sent: SentMessage[] = [];
    const failed: FailedMessage[] = [];
    const open = this.#rooms.get(room);
    entries.forEach((entry, index) => {
      const local = open?.view.findLocal(entry.id);
      const base = { id: entry.id, room, author: local?.author ?? author, body: entry.body };
      const result = ack.ok ? ack.results[index] : undefined;
      if (result && result.id === entry.id && result.status !== 'rejected') {
        sent.push({ ...base, status: 'sent', seq: result.seq, ts: result.ts });
        return;
      }
      const error = !ack.ok
        ? { code: ack.error.code, reason: ack.error.message }
        : result?.status === 'rejected'
          ? { code: result.code, reason: result.reason }
          : { code: 'internal' as const, reason: 'the server did not answer for this message' };
      const permanent = PERMANENT_MESSAGE_ERRORS.has(error.code) || !ack.ok;
      if (!permanent) return; // stays in the outbox and is sent again
      const createdAt = local?.status === 'pending' ? local.createdAt : this.#clock();
      failed.push({ ...base, status: 'failed', order: entry.key, createdAt, error });
    });
    const settledIds = new Set([...sent, ...failed].map((message) => message.id));
    const settledOutboxKeys = entries
      .filter((entry) => settledIds.has(entry.id))
      .map((entry) => entry.key);
    await this.#commit(room, sent, failed, settledOutboxKeys);
  }

  /** Stores server-confirmed messages (a live event or a history page). */
  async #storeSent(room: string, messages: readonly StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const open = this.#rooms.get(room);
    const sent: SentMessage[] = [];
    const settledOutboxKeys: number[] = [];
    for (const message of messages) {
      sent.push({ ...message, status: 'sent' });
      // Our own pending message came back (another tab sent it): it must not go out again.
      const local = open?.view.findLocal(message.id);
      if (local?.status === 'pending') settledOutboxKeys.push(local.order);
    }
    await this.#commit(room, sent, [], settledOutboxKeys);
  }

  async #commit(
    room: string,
    sent: SentMessage[],
    failed: FailedMessage[],
    settledOutboxKeys: number[],
  ): Promise<void> {
    const open = this.#rooms.get(room);
    const cursor = open?.known
      ? advanceCursor(
          open.cursor,
          sent.map((message) => message.seq),
        )
      : open?.cursor;
    await this.#store.commit({
      sent,
      failed,
      settledOutboxKeys,
      room: open?.known && cursor ? { room, cursor: cursor.cursor, floor: open.floor } : undefined,
    });
    if (settledOutboxKeys.length > 0) this.#outboxCount = await this.#store.outboxCount();
    this.#update(room, (current) => {
      let view = current.view.withSent(sent);
      for (const message of failed) view = view.withLocal(message);
      return { ...current, view, cursor: cursor ?? current.cursor };
    });
    if (!this.#rooms.has(room)) this.#listeners.emit();
    if (cursor && hasGap(cursor) && this.#connection.connected) void this.#catchUp.run(room);
  }

  /** Replaces an open room's state and, if it changed, its snapshot; then notifies. */
  #update(room: string, change: (open: OpenRoom) => OpenRoom): void {
    const open = this.#rooms.get(room);
    if (!open) return;
    const next = change(open);
    next.snapshot = {
      room,
      messages: next.view.messages,
      catchingUp: next.catchingUp,
      hasOlder: next.known && next.floor > 1,
    };
    this.#rooms.set(room, next);
    this.#listeners.emit();
  }
}

function emptySnapshot(room: string): RoomSnapshot {
  return { room, messages: [], catchingUp: null, hasOlder: false };
}

function assertRoom(room: string): void {
  if (!ROOM_ID_PATTERN.test(room)) throw new InvalidInputError(`"${room}" is not a room id`);
}
