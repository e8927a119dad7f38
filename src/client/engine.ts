import { MAX_HISTORY_PAGE, ROOM_ID_PATTERN } from '../shared/limits.ts';
import { checkBody, createRoomAckSchema, leaveAckSchema } from '../shared/schemas.ts';
import { toStorable } from '../shared/text.ts';
import { Connection, type ConnectionState, type ConnectionStatus } from './connection.ts';
import {
  DEFAULT_DB_NAME,
  type EngineOptions,
  OLDER_PAGE_MESSAGES,
  type StorageLoss,
  UNREAD_WINDOW_MAX,
  WINDOW_MESSAGES,
} from './engine-options.ts';
import { EngineFlushPort } from './flush-port.ts';
import { Flusher, type FlushStats } from './flusher.ts';
import { IDENTITY_LOCK_MAX_WAIT_MS, IdentityKeeper, InvalidInputError } from './identity-keeper.ts';
import { newMessageId } from './ids.ts';
import { Listeners } from './listeners.ts';
import { newRoomMeta } from './local-db.ts';
import { LocalStore, type OpOrigin } from './local-store.ts';
import { identityLockName, platformLocks, senderLockName, withLockIfPossible } from './locks.ts';
import { shown } from './message-state.ts';
import type { RoomSnapshot } from './open-rooms.ts';
import { askPatiently } from './patient-request.ts';
import {
  NO_CHANNEL,
  openProfileChannel,
  type ProfileChange,
  type ProfileChannel,
} from './profile-channel.ts';
import { ReceiptSync } from './receipt-sync.ts';
import { RoomDirectory, type RoomSummary } from './room-directory.ts';
import { roomIdFromName } from './room-names.ts';
import { RoomSync } from './room-sync.ts';
import { SenderElection } from './sender-election.ts';
import type { Leadership } from './sender-lock.ts';
import { type Timers, timersWithClock } from './timers.ts';
import type { Identity, PendingMessage } from './types.ts';
import { TYPING_RENEW_MS, TypingBoard } from './typing-board.ts';
import { ALWAYS_VISIBLE } from './visibility.ts';

export type { EngineOptions, StorageLoss } from './engine-options.ts';
export { InvalidInputError } from './identity-keeper.ts';
export type { RoomReceipts, RoomSnapshot } from './open-rooms.ts';
export type { RoomSummary } from './room-directory.ts';
export type { Leadership } from './sender-lock.ts';

/** The longest a "new private room" click waits out rate limits and server failures. */
export const CREATE_ROOM_MAX_WAIT_MS = 10_000;

/**
 * The sync engine: durable outbox, flusher, catch-up and merged room views over one
 * connection. Framework-free; the UI reads it through `subscribe` and the getters.
 * docs/architecture.md follows one message through it. Every tab of a profile runs one;
 * they share the database, tell each other what changed over the profile channel, and
 * only the elected sender (SenderElection) flushes the outbox.
 *
 *   send ──▶ outbox (IndexedDB) ──▶ Flusher ──port.send──▶ server ──ack──▶ port.settle ─┐
 *   server ──live messages / history pages (RoomSync, CatchUp)──▶ store ──▶ cursor, view ◀┘
 */
export class Engine {
  readonly #store: LocalStore;
  readonly #identity: IdentityKeeper;
  readonly #connection: Connection;
  readonly #flusher: Flusher;
  readonly #rooms: RoomSync;
  readonly #election: SenderElection;
  readonly #listeners = new Listeners();
  readonly #clock: () => number;
  readonly #timers: Timers;
  readonly #disposers: (() => void)[] = [];
  readonly #typing: TypingBoard;
  readonly #receipts: ReceiptSync;
  readonly #directory: RoomDirectory;
  readonly #channel: ProfileChannel;
  /** The rooms of the list are kept in sync too, once the first room on screen is open. */
  #listedRoomsOpened = false;
  /** When this tab last said its user types in each room, on the current link. */
  readonly #typingSaidAt = new Map<string, number>();
  readonly #onOutboxWaiting: () => void;
  /**
   * Asked for a sync since the link went down: one registration covers every message
   * queued until it is back (300 typed in a tunnel ask once, not 300 times).
   */
  #syncAsked = false;
  #outboxCount: number;
  #destroyed = false;
  #storageLoss: StorageLoss | null = null;
  #lastStatus: ConnectionStatus = 'connecting';

  private constructor(
    store: LocalStore,
    identity: Identity | null,
    outboxCount: number,
    options: EngineOptions,
  ) {
    this.#store = store;
    this.#outboxCount = outboxCount;
    this.#onOutboxWaiting = options.onOutboxWaiting ?? (() => undefined);
    const timers = options.timers ?? timersWithClock(options.clock);
    this.#clock = timers.now;
    this.#timers = timers;
    const notify = () => this.#listeners.emit();
    const dbName = options.dbName ?? DEFAULT_DB_NAME;
    const openedChannel = options.channel ?? openProfileChannel(dbName);
    const channel = openedChannel ?? NO_CHANNEL;
    this.#channel = channel;
    const platform = options.locks === undefined ? platformLocks() : options.locks;
    // Tabs that cannot hear each other cannot hand the sending over: each one sends.
    const locks = openedChannel ? platform : null;
    this.#identity = new IdentityKeeper({
      store,
      url: options.url,
      identity,
      onChange: notify,
      onStored: () => channel.post({ kind: 'identity' }),
      exclusive: (work) =>
        withLockIfPossible(locks, identityLockName(dbName), IDENTITY_LOCK_MAX_WAIT_MS, work),
    });
    this.#connection = new Connection({
      ...options,
      timers,
      auth: () => this.#identity.handshakeAuth(),
      onRefused: ({ code }) => {
        if (code === 'unauthorized') void this.#identity.forgetSession();
      },
    });
    this.#directory = new RoomDirectory({
      store,
      timers,
      userId: () => this.#identity.author.id,
      onChange: notify,
    });
    this.#rooms = new RoomSync({
      store,
      connection: this.#connection,
      channel,
      historyPageSize: options.historyPageSize ?? MAX_HISTORY_PAGE,
      timers,
      userId: () => this.#identity.author.id,
      onChange: notify,
      onOutboxSettled: (show) => this.#refreshOutboxCount(show),
      windowMessages: options.windowMessages ?? WINDOW_MESSAGES,
      unreadWindowMax: Math.max(options.windowMessages ?? WINDOW_MESSAGES, UNREAD_WINDOW_MAX),
      now: this.#clock,
      onJoined: (room, ack, firstVisit) => {
        // A node of the release before names no room and keeps no receipts.
        if (!ack.receipts) return;
        // New to the room: its first visit here, and no cursor of the user's anywhere.
        const newcomer = firstVisit && ack.receipts.read === 0 && ack.receipts.delivered === 0;
        this.#receipts
          .joined(room, ack.name ?? room, ack.receipts, newcomer ? ack.latestSeq : 0)
          .catch(() => undefined);
      },
      onCursorMoved: (room) => this.#receipts.cursorMoved(room),
      onStored: () => this.#directory.changed(),
    });
    this.#receipts = new ReceiptSync({
      store,
      connection: this.#connection,
      timers,
      userId: () => this.#identity.author.id,
      metaOf: (room) => this.#rooms.metaOf(room),
      deliveredOf: (room) => this.#rooms.deliveredOf(room),
      setMeta: (room, meta) => this.#rooms.setMeta(room, meta),
      onStored: (room) => {
        this.#directory.changed();
        channel.post({ kind: 'room', room });
      },
    });
    const port = new EngineFlushPort({
      connection: this.#connection,
      identity: this.#identity,
      rooms: this.#rooms,
      clock: this.#clock,
    });
    this.#flusher = new Flusher(store, port, {
      caps: options.batchCaps,
      maxWindowBatches: options.maxWindowBatches,
      timers,
    });
    this.#typing = new TypingBoard({
      timers,
      selfId: () => this.#identity.author.id,
      onChange: notify,
    });
    this.#election = new SenderElection({
      locks,
      lockName: senderLockName(dbName),
      channel,
      timers,
      visibility: options.visibility ?? ALWAYS_VISIBLE,
      isConnected: () => this.#connection.connected,
      hasOutbox: () => this.#outboxCount > 0,
      onChange: (leadership) => this.#onLeadership(leadership),
    });
    if (this.#election.leadership.kind === 'follower') this.#flusher.stop();

    this.#disposers.push(
      () => channel.close(),
      channel.subscribe((change) => this.#onOtherTab(change)),
      this.#connection.subscribe((state) => this.#onConnectionState(state)),
      this.#connection.onMessages((event) => {
        this.#rooms.receiveLive(event.room, event.messages);
        // Who just sent has stopped typing, whatever their last signal said.
        this.#typing.stopped(
          event.room,
          event.messages.map((message) => message.authorId),
        );
      }),
      this.#connection.onTyping((event) =>
        this.#typing.heard(event.room, event.userId, event.name),
      ),
      this.#connection.onReceipts((event) => this.#receipts.heard(event)),
      () => this.#directory.close(),
      () => this.#typing.clear(),
      this.#connection.onHead((event) => this.#rooms.receiveHead(event.room, event.latestSeq)),
      () => this.#rooms.close(),
      (options.visibility ?? ALWAYS_VISIBLE).subscribe((visible) => {
        if (!visible && this.#outboxCount > 0) this.#onOutboxWaiting();
      }),
    );
    this.#election.start();
    if (identity) this.#connection.start();
    void this.#directory.refresh();
  }

  /** Opens the local database and, if a name was picked before, connects. */
  static async create(options: EngineOptions): Promise<Engine> {
    let engine: Engine | null = null;
    // The database can be taken away before the engine exists (while it loads): remember.
    let lostEarly: StorageLoss | null = null;
    const lose = (loss: StorageLoss, callback: (() => void) | undefined) => {
      if (engine) engine.#loseStorage(loss);
      else lostEarly ??= loss;
      callback?.();
    };
    const store = await LocalStore.open(options.dbName ?? DEFAULT_DB_NAME, {
      onBlocked: options.onStorageBlocked,
      onVersionChange: () => lose('version_change', options.onStorageVersionChange),
      onClosed: () => lose('closed', options.onStorageClosed),
    });
    const [identity, outboxCount] = await Promise.all([store.getIdentity(), store.outboxCount()]);
    engine = new Engine(store, identity ?? null, outboxCount, options);
    if (lostEarly) engine.#loseStorage(lostEarly);
    return engine;
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

  /** Set once the database was taken away (see EngineOptions); the engine has stopped. */
  get storageLoss(): StorageLoss | null {
    return this.#storageLoss;
  }

  /** Whether this tab sends the profile's outbox (`leader`, `solo`) or leaves it to another tab. */
  get leadership(): Leadership {
    return this.#election.leadership;
  }

  /** Counts of batches sent and refused by the rate limit, for diagnostics. */
  get diagnostics(): Readonly<FlushStats> {
    return this.#flusher.stats;
  }

  /** The room's snapshot; rooms not opened yet read as empty (the same object each time). */
  room(room: string): RoomSnapshot {
    return this.#rooms.snapshot(room);
  }

  /**
   * The user's rooms, newest activity first, each with its newest message and unread
   * count: from the device, so offline too. The same array until something in it changes.
   */
  rooms(): readonly RoomSummary[] {
    return this.#directory.summaries;
  }

  /** Whether `rooms()` has been read from the device yet (before, it is empty for now). */
  roomsLoaded(): boolean {
    return this.#directory.loaded;
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
    await this.#rooms.open(room, options.invite);
    this.syncListedRooms();
  }

  /**
   * Pages older messages into the room's view (scrolling up): from the device while it
   * holds more, then from the server. Resolves false when there is nothing older, or it is
   * on the server and there is no connection.
   */
  loadOlder(room: string, limit = OLDER_PAGE_MESSAGES): Promise<boolean> {
    return this.#rooms.loadOlder(room, limit);
  }

  /**
   * The user is back at the room's newest messages: its view goes back to the window it
   * opened with (older pages are read again when scrolled to).
   */
  showLatest(room: string): void {
    this.#rooms.showLatest(room);
  }

  /**
   * The user scrolled up from the newest messages: the view stops being cut back to its
   * window (what is above the reader stays put) until `showLatest`.
   */
  holdWindow(room: string): void {
    this.#rooms.holdWindow(room);
  }

  /**
   * The user has seen the room up to `seq` on screen: the read cursor moves up (never
   * down), durably, and the server is told when the link allows. It drives the unread
   * counts on all of the user's devices and the other members' "read" receipts.
   */
  markRead(room: string, seq: number): Promise<void> {
    return this.#receipts.markRead(room, seq);
  }

  /**
   * Starts a public room by name (offline too: its id is the name, made URL-safe) or, with
   * `private`, a private one whose members see `name` (needs a connection). Answers its id,
   * and a private room's invite secret.
   */
  async createRoom(
    name: string,
    options: { private?: boolean } = {},
  ): Promise<{ room: string; invite?: string }> {
    if (options.private) return this.createPrivateRoom(name);
    const room = roomIdFromName(name);
    if (!room) throw new InvalidInputError('a room name needs a letter or a digit');
    await this.openRoom(room);
    return { room };
  }

  /**
   * Leaves a room: it goes from the list, with everything this device holds of it (what
   * it still had to send too), and a private room's membership goes on the server (it
   * takes the invite again to come back). The server is told when connected; offline, a
   * private room keeps the membership until the next leave.
   */
  async leaveRoom(room: string): Promise<void> {
    assertRoom(room);
    this.#assertStorage();
    if (this.#connection.connected) {
      await this.#connection.request('leave', { room }, leaveAckSchema).catch(() => undefined);
    }
    this.#receipts.forget(room);
    this.#rooms.forget(room);
    await this.#rooms.drain();
    await this.#store.forgetRoom(room);
    await this.#refreshOutboxCount();
    this.#channel.post({ kind: 'room', room });
    await this.#directory.refresh();
  }

  /**
   * Creates a private room (needs a connection); answers its id and invite secret. A short
   * rate limit or server failure is waited out; a longer one (the hourly cap) fails with
   * the server's reason.
   */
  async createPrivateRoom(name?: string): Promise<{ room: string; invite: string }> {
    // Asking again after `internal` is safe: the server answers it only when the room's one
    // transaction failed (nothing was created) or never ran, so a retry makes no second room.
    const request = name === undefined ? {} : { name };
    const ack = await askPatiently(
      () => this.#connection.request('createRoom', request, createRoomAckSchema),
      {
        timers: this.#timers,
        connected: () => this.#connection.connected,
        maxWaitMs: CREATE_ROOM_MAX_WAIT_MS,
      },
    );
    if (!ack.ok) throw new Error(ack.error.message);
    // In the list under its name at once, before the first join says it again.
    const meta = newRoomMeta(ack.room, ack.name ?? name ?? ack.room, this.#clock());
    await this.#store.updateRoomMeta(ack.room, (stored) => stored ?? meta);
    await this.openRoom(ack.room);
    return { room: ack.room, invite: ack.invite };
  }

  /**
   * Queues a message. Resolves once it is in the IndexedDB outbox, so it survives a reload
   * from then on; it shows as pending at once and goes out when the link allows. Length
   * rules are the server's to enforce (the composer checks them before sending); a body no
   * batch could ever carry fails on the device instead. Lone surrogates become U+FFFD
   * here, so what is shown pending is exactly what the server will store.
   */
  async send(room: string, typed: string): Promise<PendingMessage> {
    assertRoom(room);
    const body = toStorable(typed);
    if (checkBody(body) === 'body_empty') throw new InvalidInputError('a message needs some text');
    if (!this.#identity.current) throw new InvalidInputError('pick a name before sending');
    this.#assertStorage();
    const author = this.#identity.author;
    const pending = await this.#store.enqueue({
      id: newMessageId(),
      room,
      authorId: author.id,
      author: author.name,
      body,
      createdAt: this.#clock(),
    });
    this.#queued(pending);
    // The others stop showing the user as typing when this arrives: the next key says it again.
    this.#typingSaidAt.delete(room);
    return pending;
  }

  /** Puts a failed message back in the outbox (at the end). */
  async retry(room: string, id: string): Promise<void> {
    const failed = this.#rooms.findLocal(room, id);
    if (failed?.status !== 'failed') return;
    this.#assertStorage();
    this.#queued(await this.#store.enqueue(failed));
  }

  /**
   * Changes the body of one of the user's messages, offline too. A pending message that has
   * not left the device is rewritten in place; a sent one (or one that may be on its way)
   * gets an edit queued behind it, shown at once and sent in order; a failed one takes the
   * new body and goes back in the outbox.
   */
  async edit(room: string, id: string, typed: string): Promise<void> {
    const body = toStorable(typed);
    if (checkBody(body) === 'body_empty') {
      throw new InvalidInputError('a message needs some text: delete it instead');
    }
    this.#assertOwnMessage(room, id);
    const origin = this.#opOrigin();
    await this.#rooms.changeQueued(room, id, () => this.#store.queueEdit(id, body, origin));
    await this.#queuedOp(room);
  }

  /**
   * Deletes one of the user's messages, offline too. A pending message that has not left
   * the device is taken back (the server never sees it); a failed one is discarded; any
   * other gets a delete queued behind it, and shows as deleted at once.
   */
  async deleteMessage(room: string, id: string): Promise<void> {
    this.#assertOwnMessage(room, id);
    const origin = this.#opOrigin();
    await this.#rooms.changeQueued(room, id, () => this.#store.queueDelete(id, origin));
    await this.#queuedOp(room);
  }

  /**
   * Discard on a failed message's row: its delete, decided in the delete's transaction, so
   * one another tab retried a moment ago is deleted as the pending message it now is.
   */
  async discard(room: string, id: string): Promise<void> {
    if (this.#rooms.findLocal(room, id)?.status !== 'failed') return;
    await this.deleteMessage(room, id);
  }

  /** Who is typing in the room now, by name (never the user); the same array until it changes. */
  typingIn(room: string): readonly string[] {
    return this.#typing.names(room);
  }

  /**
   * The user is typing in `room`: the other members are told, at most every
   * TYPING_RENEW_MS, and only while connected (nothing is queued or stored).
   */
  typing(room: string): void {
    const now = this.#clock();
    const said = this.#typingSaidAt.get(room);
    if (!this.#connection.connected || (said !== undefined && now - said < TYPING_RENEW_MS)) {
      return;
    }
    this.#typingSaidAt.set(room, now);
    this.#connection.notifyTyping(room);
  }

  /** Connects at once, with the backoff reset. */
  reconnectNow(): void {
    if (this.#storageLoss) return;
    this.#connection.reconnectNow();
  }

  /** Stops syncing and closes the database. Queued messages stay queued for the next start. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#stopSyncing();
    await this.#rooms.drain();
    this.#store.close();
    this.#listeners.clear();
  }

  // ---- internals -------------------------------------------------------------

  /**
   * Another tab of this profile changed something: show what IndexedDB holds now. Best
   * effort: a tab that misses a change (closing meanwhile) reads it at its reload.
   */
  #onOtherTab(change: ProfileChange): void {
    if (change.kind === 'messages') {
      // Queued in another tab: the sender sends it.
      this.#flusher.wake();
      this.#rooms.applyOtherTab(change).catch(() => undefined);
    } else if (change.kind === 'identity') {
      void this.#adoptStoredIdentity().catch(() => undefined);
    } else if (change.kind === 'room') {
      void this.#adoptRoomMeta(change.room).catch(() => undefined);
    }
    if (change.kind === 'messages' || change.kind === 'room') this.#directory.changed();
  }

  /** Another tab raised a room's cursors, renamed it or left it: the same here. */
  async #adoptRoomMeta(room: string): Promise<void> {
    if (!this.#rooms.metaOf(room)) return;
    const meta = await this.#store.roomMeta(room);
    if (meta) {
      this.#rooms.setMeta(room, meta);
      // A cursor raised there may not have gone out (that tab closed within the wait).
      this.#receipts.cursorMoved(room);
      return;
    }
    this.#receipts.forget(room);
    this.#rooms.forget(room);
    // This tab's socket leaves the room too, or its live messages would keep coming.
    if (this.#connection.connected) {
      await this.#connection.request('leave', { room }, leaveAckSchema).catch(() => undefined);
    }
  }

  /**
   * Keeps every room of the list in sync, for its unread count and receipts: called once
   * the room on screen has opened (it goes first: a warm start shows it before the others
   * load), or when the list itself is the screen. Once per engine.
   */
  syncListedRooms(): void {
    if (this.#listedRoomsOpened) return;
    this.#listedRoomsOpened = true;
    void this.#store
      .roomMetas()
      .then((metas) => Promise.all(metas.map((meta) => this.#rooms.open(meta.room, undefined))))
      .catch(() => undefined);
  }

  /**
   * A name picked, or a session made or dropped, in another tab: use it here too. A tab
   * still without a session needs nothing more: its next handshake reads the stored one.
   */
  async #adoptStoredIdentity(): Promise<void> {
    const before = this.#identity.current;
    if (!(await this.#identity.reload()) || this.#storageLoss || this.#destroyed) return;
    const token = before?.session?.token;
    if (!before) this.#connection.start();
    // This link runs under a session the profile has dropped or replaced.
    else if (token && token !== this.#identity.current?.session?.token) {
      this.#connection.reconnectNow();
    }
  }

  #onLeadership(leadership: Leadership): void {
    // A new sender starts from the head of the outbox: what the old one had in flight may
    // or may not have landed, and the server answers a repeat as a duplicate.
    if (leadership.kind === 'follower') this.#flusher.stop();
    else this.#flusher.start();
    this.#listeners.emit();
  }

  /** Throws unless `id` is a message of the user's that an edit or delete may change. */
  #assertOwnMessage(room: string, id: string): void {
    assertRoom(room);
    this.#assertStorage();
    const message = this.#rooms.find(room, id);
    if (!message) throw new InvalidInputError('there is no such message here');
    const mine = message.status !== 'sent' || message.authorId === this.#identity.author.id;
    if (!mine) throw new InvalidInputError('only its author may change a message');
    if (shown(message).deleted) throw new InvalidInputError('this message was deleted');
  }

  /** The id, author and time of an edit or delete typed now. */
  #opOrigin(): OpOrigin {
    return { id: newMessageId(), author: this.#identity.author.name, createdAt: this.#clock() };
  }

  /** An edit or delete was queued (or done in place): count it, send it. */
  async #queuedOp(room: string): Promise<void> {
    // Its arrival ends the others' "typing" for the user, as a message's does.
    this.#typingSaidAt.delete(room);
    await this.#refreshOutboxCount();
    this.#flusher.wake();
    if (this.#outboxCount > 0 && !this.#connection.connected && !this.#syncAsked) {
      this.#syncAsked = true;
      this.#onOutboxWaiting();
    }
  }

  #queued(pending: PendingMessage): void {
    this.#outboxCount += 1;
    this.#rooms.showPending(pending);
    this.#flusher.wake();
    if (!this.#connection.connected && !this.#syncAsked) {
      this.#syncAsked = true;
      this.#onOutboxWaiting();
    }
  }

  /** Reads the outbox count again; `show` runs with it set, before the UI is told. */
  async #refreshOutboxCount(show?: () => void): Promise<void> {
    this.#outboxCount = await this.#store.outboxCount();
    show?.();
    this.#listeners.emit();
  }

  #onConnectionState(state: ConnectionState): void {
    const previous = this.#lastStatus;
    this.#lastStatus = state.status;
    if (state.status !== previous) {
      // Every new link starts from the head of the outbox and catches every room up.
      this.#flusher.reset();
      // What was heard on the old link is stale, and the new one has not been told.
      this.#typing.clear();
      this.#typingSaidAt.clear();
      if (state.status === 'connected') {
        this.#syncAsked = false;
        this.#rooms.joinAll();
        this.#flusher.wake();
      } else if (previous === 'connected' && this.#outboxCount > 0) {
        // What was on the wire may never have landed: ask now, not at the last moment.
        this.#syncAsked = true;
        this.#onOutboxWaiting();
      }
      if (state.status !== 'connected') this.#receipts.disconnected();
      this.#election.connectionChanged();
    }
    this.#listeners.emit();
  }

  /**
   * The database was closed under this tab (a newer version elsewhere, or the browser).
   * Nothing can be recorded any more, so stop sending and receiving rather than look
   * connected while every write fails; the UI asks for a reload.
   */
  #loseStorage(loss: StorageLoss): void {
    if (this.#storageLoss || this.#destroyed) return;
    this.#storageLoss = loss;
    this.#stopSyncing();
    this.#listeners.emit();
  }

  #stopSyncing(): void {
    this.#flusher.stop();
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#connection.destroy();
    // Only now, with nothing more to send, may the next tab in line become the sender.
    this.#election.close();
    this.#identity.close();
  }

  #assertStorage(): void {
    if (this.#storageLoss) {
      throw new InvalidInputError('this tab lost its storage: reload the page to go on');
    }
  }
}

function assertRoom(room: string): void {
  if (!ROOM_ID_PATTERN.test(room)) throw new InvalidInputError(`"${room}" is not a room id`);
}
