import { MAX_HISTORY_PAGE, ROOM_ID_PATTERN } from '../shared/limits.ts';
import type { StoredMessage } from '../shared/protocol.ts';
import {
  checkBody,
  createRoomAckSchema,
  historyAckSchema,
  joinAckSchema,
  sendAckSchema,
} from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import { settleAck } from './ack-settlement.ts';
import { CatchUp } from './catch-up.ts';
import {
  Connection,
  type ConnectionOptions,
  type ConnectionState,
  type ConnectionStatus,
} from './connection.ts';
import { Flusher } from './flusher.ts';
import { IdentityKeeper, InvalidInputError } from './identity-keeper.ts';
import { newMessageId } from './ids.ts';
import { Listeners } from './listeners.ts';
import { type BatchCaps, LocalStore } from './local-store.ts';
import { OpenRooms, type RoomSnapshot } from './open-rooms.ts';
import { RoomView } from './room-view.ts';
import { advanceCursor, hasGap } from './seq-cursor.ts';
import type { FailedMessage, Identity, PendingMessage, SentMessage } from './types.ts';

export { InvalidInputError } from './identity-keeper.ts';
export type { RoomSnapshot } from './open-rooms.ts';

/** How long a request may wait for its ack before the link is presumed half-open. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** A device that opens a room for the first time loads this much recent history. */
export const INITIAL_HISTORY_MESSAGES = 200;
/** One "load older" page. */
export const OLDER_PAGE_MESSAGES = 100;

export interface EngineOptions extends Omit<ConnectionOptions, 'auth' | 'onRefused'> {
  /** IndexedDB database name; one per user profile (tests use one per simulated device). */
  dbName?: string;
  flushWindowBatches?: number;
  batchCaps?: BatchCaps;
  historyPageSize?: number;
  requestTimeoutMs?: number;
  /** Another tab holds the database at an older version; see local-db.ts. */
  onStorageBlocked?: () => void;
  /** A newer version in another tab upgraded the database; this tab should reload. */
  onStorageVersionChange?: () => void;
}

/**
 * The sync engine: durable outbox, flusher, catch-up and merged room views over one
 * connection. Framework-free; the UI reads it through `subscribe` and the getters.
 *
 *   send ──▶ outbox (IndexedDB) ──▶ Flusher ──batches──▶ server ──ack──▶ settle ─┐
 *   server ──live messages / history pages (CatchUp)──▶ store ──▶ cursor, view ◀─┘
 */
export class Engine {
  readonly #store: LocalStore;
  readonly #identity: IdentityKeeper;
  readonly #connection: Connection;
  readonly #flusher: Flusher;
  readonly #catchUp: CatchUp;
  readonly #rooms: OpenRooms;
  /** Local commits, one at a time: each reads the cursor the previous one left. */
  readonly #writes = new SerialQueue();
  readonly #listeners = new Listeners();
  /** Rooms being loaded from IndexedDB, so two quick opens share one load. */
  readonly #opening = new Map<string, Promise<void>>();
  readonly #clock: () => number;
  readonly #requestTimeoutMs: number;
  readonly #disposers: (() => void)[] = [];
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
    this.#outboxCount = outboxCount;
    this.#clock = options.clock ?? Date.now;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const notify = () => this.#listeners.emit();
    this.#rooms = new OpenRooms(notify);
    this.#identity = new IdentityKeeper(store, options.url, identity, notify);
    const pageSize = options.historyPageSize ?? MAX_HISTORY_PAGE;

    this.#connection = new Connection({
      ...options,
      auth: () => this.#identity.handshakeAuth(),
      onRefused: ({ code }) => {
        if (code === 'unauthorized') void this.#identity.forgetSession();
      },
    });
    this.#flusher = new Flusher(
      store,
      {
        isConnected: () => this.#connection.connected,
        sendBatch: (batch) =>
          this.#connection.request('send', batch, sendAckSchema, this.#requestTimeoutMs),
        recycle: () => this.#connection.reconnectNow(),
      },
      (entries, ack) =>
        this.#writes.push(async () => {
          const room = entries[0]?.room ?? '';
          const settlement = settleAck(entries, ack, {
            findLocal: (id) => this.#rooms.get(room)?.view.findLocal(id),
            author: this.#identity.author,
            now: this.#clock(),
          });
          await this.#commit(
            room,
            settlement.sent,
            settlement.failed,
            settlement.settledOutboxKeys,
          );
          return { retryAfterMs: settlement.retryAfterMs };
        }),
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
        this.#rooms.update(room, (open) => ({ ...open, catchingUp: remaining })),
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
      onVersionChange: options.onStorageVersionChange,
    });
    const [identity, outboxCount] = await Promise.all([store.getIdentity(), store.outboxCount()]);
    return new Engine(store, identity ?? null, outboxCount, options);
  }

  // ---- reading -------------------------------------------------------------

  subscribe(listener: () => void): () => void {
    return this.#listeners.add(listener);
  }

  get identity(): Identity | null {
    return this.#identity.current;
  }

  get connection(): ConnectionState {
    return this.#connection.state;
  }

  /** Messages waiting in the outbox, across rooms. */
  get outboxCount(): number {
    return this.#outboxCount;
  }

  /** The room's snapshot; rooms not opened yet read as empty (the same object each time). */
  room(room: string): RoomSnapshot {
    return this.#rooms.snapshot(room);
  }

  // ---- acting --------------------------------------------------------------

  /**
   * Picks the display name (first visit) and connects. Works offline: the server creates
   * the session on the first connection.
   */
  async setIdentity(name: string): Promise<void> {
    const first = this.#identity.current === null;
    await this.#identity.pick(name);
    if (first) this.#connection.start();
    else this.#connection.reconnectNow();
  }

  /**
   * Loads a room from the device, then keeps it in sync while connected. `invite` is the
   * secret from an invite link to a private room; it is used at the next join.
   */
  async openRoom(room: string, options: { invite?: string } = {}): Promise<void> {
    assertRoom(room);
    const loading = this.#opening.get(room);
    if (loading) await loading;
    const existing = this.#rooms.get(room);
    if (existing) {
      if (options.invite && existing.denied) {
        this.#rooms.update(room, (open) => ({ ...open, invite: options.invite, denied: null }));
        if (this.#connection.connected) void this.#join(room);
      }
      return;
    }
    const load = this.#load(room, options.invite);
    this.#opening.set(room, load);
    try {
      await load;
    } finally {
      this.#opening.delete(room);
    }
  }

  /**
   * Loads older history from the server below what this device holds (scrolling up);
   * resolves false when there is nothing older or no connection.
   */
  async loadOlder(room: string, limit = OLDER_PAGE_MESSAGES): Promise<boolean> {
    const open = this.#rooms.get(room);
    if (!open?.known || open.floor <= 1 || !this.#connection.connected) return false;
    const ack = await this.#connection.request(
      'history',
      { room, before: open.floor, limit },
      historyAckSchema,
      this.#requestTimeoutMs,
    );
    if (!ack.ok) return false;
    const floor = ack.messages[0]?.seq ?? 1;
    await this.#writes.push(async () => {
      this.#rooms.update(room, (current) => ({
        ...current,
        floor: Math.min(current.floor, floor),
      }));
      await this.#storeSent(room, ack.messages);
    });
    return true;
  }

  /** Creates a private room (needs a connection); answers its id and invite secret. */
  async createPrivateRoom(): Promise<{ room: string; invite: string }> {
    const ack = await this.#connection.request(
      'createRoom',
      {},
      createRoomAckSchema,
      this.#requestTimeoutMs,
    );
    if (!ack.ok) throw new Error(ack.error.message);
    await this.openRoom(ack.room);
    return { room: ack.room, invite: ack.invite };
  }

  /**
   * Queues a message. Resolves once it is in the IndexedDB outbox, so it survives a reload
   * from then on; it shows as pending at once and goes out when the link allows. Length
   * rules are the server's to enforce (the composer checks them before sending).
   */
  async send(room: string, body: string): Promise<PendingMessage> {
    assertRoom(room);
    if (checkBody(body) === 'body_empty') throw new InvalidInputError('a message needs some text');
    const identity = this.#identity.current;
    if (!identity) throw new InvalidInputError('pick a name before sending');
    const author = this.#identity.author;
    const pending = await this.#store.enqueue({
      id: newMessageId(),
      room,
      authorId: author.id,
      author: author.name,
      body,
      createdAt: this.#clock(),
    });
    this.#outboxCount += 1;
    this.#rooms.update(room, (open) => ({ ...open, view: open.view.withLocal(pending) }));
    this.#flusher.wake();
    return pending;
  }

  /** Puts a failed message back in the outbox (at the end). */
  async retry(room: string, id: string): Promise<void> {
    const failed = this.#rooms.get(room)?.view.findLocal(id);
    if (failed?.status !== 'failed') return;
    const pending = await this.#store.requeue(failed);
    this.#outboxCount += 1;
    this.#rooms.update(room, (open) => ({ ...open, view: open.view.withLocal(pending) }));
    this.#flusher.wake();
  }

  /** Deletes a failed message; pending ones cannot be taken back (they may be stored already). */
  async discard(room: string, id: string): Promise<void> {
    const failed = this.#rooms.get(room)?.view.findLocal(id);
    if (failed?.status !== 'failed') return;
    await this.#store.deleteMessage(id);
    this.#rooms.update(room, (open) => ({ ...open, view: open.view.without(id) }));
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
    this.#identity.close();
    await this.#writes.push(async () => undefined);
    this.#store.close();
    this.#listeners.clear();
  }

  // ---- internals -------------------------------------------------------------

  async #load(room: string, invite: string | undefined): Promise<void> {
    const stored = await this.#store.loadRoom(room);
    const view = RoomView.from(stored.messages);
    const cursor = stored.record?.cursor ?? 0;
    const ahead = new Set(
      view.sent.filter((message) => message.seq > cursor).map((message) => message.seq),
    );
    this.#rooms.add(room, {
      view,
      cursor: { cursor, ahead },
      floor: stored.record?.floor ?? 0,
      known: stored.record !== undefined,
      invite,
      catchingUp: null,
      denied: null,
    });
    if (this.#connection.connected) void this.#join(room);
  }

  #onConnectionState(state: ConnectionState): void {
    const previous = this.#lastStatus;
    this.#lastStatus = state.status;
    if (state.status !== previous) {
      // Every new link starts from the head of the outbox and catches every room up.
      this.#flusher.reset();
      if (state.status === 'connected') {
        for (const room of this.#rooms.names()) void this.#join(room);
        this.#flusher.wake();
      }
    }
    this.#listeners.emit();
  }

  async #join(room: string): Promise<void> {
    const invite = this.#rooms.get(room)?.invite;
    let latestSeq: number;
    try {
      const ack = await this.#connection.request(
        'join',
        { room, invite },
        joinAckSchema,
        this.#requestTimeoutMs,
      );
      if (!ack.ok) {
        this.#rooms.update(room, (open) => ({ ...open, denied: ack.error.message }));
        return;
      }
      latestSeq = ack.latestSeq;
    } catch {
      return; // the next connect joins again
    }
    this.#rooms.update(room, (open) => {
      const joined = { ...open, invite: undefined, denied: null };
      if (open.known) return joined;
      // First visit on this device: start from recent history, not from the beginning.
      const start = Math.max(0, latestSeq - INITIAL_HISTORY_MESSAGES);
      const cursor = advanceCursor({ cursor: start, ahead: new Set() }, open.cursor.ahead);
      return { ...joined, cursor, floor: start + 1, known: true };
    });
    await this.#catchUp.run(room);
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

  /** One transaction for what the server confirmed or refused; then the cursor and view. */
  async #commit(
    room: string,
    sent: readonly SentMessage[],
    failed: readonly FailedMessage[],
    settledOutboxKeys: readonly number[],
  ): Promise<void> {
    if (sent.length === 0 && failed.length === 0 && settledOutboxKeys.length === 0) return;
    const open = this.#rooms.get(room);
    const cursor = open?.known
      ? advanceCursor(
          open.cursor,
          sent.map((message) => message.seq),
        )
      : undefined;
    await this.#store.commit({
      sent,
      failed,
      settledOutboxKeys,
      room: open && cursor ? { room, cursor: cursor.cursor, floor: open.floor } : undefined,
    });
    if (settledOutboxKeys.length > 0) this.#outboxCount = await this.#store.outboxCount();
    if (!this.#rooms.has(room)) {
      this.#listeners.emit();
      return;
    }
    this.#rooms.update(room, (current) => {
      let view = current.view.withSent(sent);
      for (const message of failed) view = view.withLocal(message);
      return { ...current, view, cursor: cursor ?? current.cursor };
    });
    if (cursor && hasGap(cursor) && this.#connection.connected) void this.#catchUp.run(room);
  }
}

function assertRoom(room: string): void {
  if (!ROOM_ID_PATTERN.test(room)) throw new InvalidInputError(`"${room}" is not a room id`);
}
