import type { PingAck } from '../shared/protocol.ts';
import { pingRequestSchema } from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import { recordingRefusals, SocketLogs } from './connection-log.ts';
import { createCreateRoomHandler } from './create-room-handler.ts';
import { type FloodLimits, roomCreationRate } from './flood-limits.ts';
import { createHandshake } from './handshake.ts';
import { createHistoryHandler } from './history-handler.ts';
import { InFlight } from './in-flight.ts';
import { createJoinHandler } from './join-handler.ts';
import { createLeaveHandler } from './leave-handler.ts';
import { type Logger, messageOf } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import { dropSocket, OUTBOUND_SWEEP_MS, OutboundGuard } from './outbound-guard.ts';
import { RateGate } from './rate-gate.ts';
import { createReceiptHandler } from './receipt-handler.ts';
import { withBudget } from './request-budget.ts';
import { createRoomAccess } from './room-access.ts';
import { startRoomHeads } from './room-heads.ts';
import type { Sender, SendHandler } from './send-handler.ts';
import { SlotsPerKey } from './slots.ts';
import { createSocketCap } from './socket-caps.ts';
import type { FerryIo, FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';
import type { MessageStore } from './store/message-store.ts';
import { type RateLimit, TokenBuckets } from './token-bucket.ts';
import { createTypingRelay } from './typing-relay.ts';
import { describeIssue, fail } from './wire.ts';

export type { FerryIo, SocketData } from './socket-types.ts';

/**
 * Most requests one socket may have queued or running at once. Ferry's client keeps at
 * most 10 batches in flight plus 8 joins and history pages (shared by all its open rooms)
 * and a "Load earlier" page; a socket past this is flooding, and is dropped (see
 * docs/protocol.md, "Transport").
 */
export const MAX_QUEUED_REQUESTS = 64;

/**
 * What a request that arrives while the server shuts down is told to wait before asking
 * again: by then its socket is closed, and it asks the process it reconnects to.
 */
export const SHUTDOWN_RETRY_AFTER_MS = 1_000;

/** socket.io rooms every socket is in besides chat rooms: its own id and its session's. */
const SERVER_ROOMS_PER_SOCKET = 2;

type Ack = (response: unknown) => void;

/** What a handler answers, and whether the socket must be dropped once the answer is sent. */
interface Reply {
  answer: unknown;
  dropSocket?: boolean;
}

/** Handles one inbound event; `payload` is untrusted and validated by the handler. */
type Handler = (socket: FerrySocket, payload: unknown) => Promise<Reply>;

/**
 * The server's state for one socket, made at its first request: the queue that runs its
 * requests in arrival order, and the sender identity with its rate-limit hold.
 */
interface SocketSession {
  queue: SerialQueue;
  /** Requests pushed to `queue` and not yet finished. */
  queued: number;
  sender: Sender;
}

export interface RealtimeOptions {
  store: MessageStore;
  accounts: AccountStore;
  /** The send handler, shared with `POST /api/messages` (one rate budget, one code path). */
  handleSend: SendHandler;
  limits: FloodLimits;
  clock: () => number;
  log: Logger;
  /** Connected sockets are read from `io` at each scrape; the rest is counted here. */
  metrics: ServerMetrics;
  /** Mean time between head checks (see room-heads.ts). */
  headCheckMs?: number;
}

/** What attachRealtime leaves running: stopped when the server closes. */
export interface Realtime {
  /** Tells every room with a socket here its newest seq now (see RoomHeads.tellAll). */
  tellRoomHeads(): Promise<void>;
  /**
   * Stops taking requests (each new one is answered `internal` with a wait, and done
   * nowhere), and resolves once every request taken before is answered.
   */
  drain(): Promise<void>;
  close(): void;
}

/** The socket.io room that holds every socket of one session, so revoking can reach them. */
export function sessionRoom(tokenHash: string): string {
  return `session:${tokenHash}`;
}

const reply = (answer: unknown): Reply => ({ answer });

/**
 * Wires the socket.io side: handshake auth and the per-user socket cap, then send, join,
 * leave, history, createRoom, receipt, typing and ping, each within its flood limits.
 */
export function attachRealtime(io: FerryIo, options: RealtimeOptions): Realtime {
  const { store, accounts, handleSend, clock, log, limits, metrics } = options;
  const socketLogs = new SocketLogs(log);
  const mayEnter = createRoomAccess(accounts);
  const budget = (rate: RateLimit) => new TokenBuckets(rate, clock);
  // `join` and `leave` share one budget: a loop of both costs what a loop of joins does.
  const joinBudget = budget(limits.joinRate);
  const handleJoin = withBudget(
    joinBudget,
    'joins',
    createJoinHandler({
      accounts,
      store,
      clock,
      maxRooms: limits.maxRoomsPerSocket,
      roomsJoined: (socket) => socket.rooms.size - SERVER_ROOMS_PER_SOCKET,
    }),
  );
  const handleLeave = withBudget(joinBudget, 'joins and leaves', createLeaveHandler(accounts));
  const handleReceipt = withBudget(
    budget(limits.receiptRate),
    'receipts',
    createReceiptHandler({
      store,
      mayEnter,
      clock,
      // To every socket of the room, on every process (the adapter), the sender's own too.
      broadcast: (event) => io.to(event.room).emit('receipts', event),
    }),
  );
  const handleHistory = withBudget(
    budget(limits.historyRate),
    'history pages',
    createHistoryHandler({ store, mayEnter }),
  );
  const handleCreateRoom = withBudget(
    budget(roomCreationRate(limits.roomsCreatedPerHour)),
    'new rooms this hour',
    createCreateRoomHandler(accounts, clock),
  );
  const relayTyping = createTypingRelay(clock);
  const outbound = new OutboundGuard({
    maxBytes: limits.maxOutboundBytes,
    stallMs: limits.outboundStallMs,
    clock,
    logOf: (socket) => socketLogs.of(socket),
  });
  const sweep = setInterval(() => outbound.sweep(io.of('/').sockets.values()), OUTBOUND_SWEEP_MS);
  sweep.unref();

  io.use(recordingRefusals(createHandshake(accounts, log), log, metrics));
  io.use(
    recordingRefusals(createSocketCap(new SlotsPerKey(limits.maxSocketsPerUser)), log, metrics),
  );

  /**
   * What each event does. Events run one at a time in arrival order, except pings: they
   * measure the link and must not wait behind a long batch or a slow history page.
   */
  const handlers = new Map<string, { order: 'serial' | 'immediate'; run: Handler }>([
    [
      'send',
      {
        order: 'serial',
        run: async (socket, payload) => {
          const { ack, dropSocket } = await handleSend(sessionOf(socket).sender, payload);
          return { answer: ack, dropSocket };
        },
      },
    ],
    ['join', { order: 'serial', run: async (s, payload) => reply(await handleJoin(s, payload)) }],
    ['leave', { order: 'serial', run: async (s, payload) => reply(await handleLeave(s, payload)) }],
    [
      'receipt',
      { order: 'serial', run: async (s, payload) => reply(await handleReceipt(s, payload)) },
    ],
    [
      'history',
      {
        order: 'serial',
        run: async (socket, payload) => {
          const answer = await handleHistory(socket, payload);
          if (answer.ok) metrics.historyPage();
          return reply(answer);
        },
      },
    ],
    [
      'createRoom',
      { order: 'serial', run: async (s, payload) => reply(await handleCreateRoom(s, payload)) },
    ],
    [
      'typing',
      // In order: a signal sent after a message must not reach the room before it, where
      // the message's arrival would end it.
      { order: 'serial', run: async (socket, payload) => reply(relayTyping(socket, payload)) },
    ],
    [
      'ping',
      {
        order: 'immediate',
        run: async (_socket, payload) => {
          const parsed = pingRequestSchema.safeParse(payload);
          if (!parsed.success) return reply(fail('invalid_payload', describeIssue(parsed.error)));
          const pong: PingAck = { ok: true, serverTime: clock() };
          return reply(pong);
        },
      },
    ],
  ]);

  /**
   * Per-socket sessions, made at a socket's first request: an idle connection holds only
   * its one listener, which keeps Ferry's memory per connection near bare socket.io's (see
   * docs/benchmarks.md).
   */
  const sessions = new WeakMap<FerrySocket, SocketSession>();
  function sessionOf(socket: FerrySocket): SocketSession {
    let session = sessions.get(socket);
    if (!session) {
      session = {
        queue: new SerialQueue(),
        queued: 0,
        sender: {
          author: { id: socket.data.userId, name: socket.data.name },
          gate: new RateGate(),
          mayEnter: (room) => mayEnter(room, socket.data.userId),
          broadcast: (room, messages) => socket.to(room).emit('messages', { room, messages }),
          log: socketLogs.of(socket),
        },
      };
      sessions.set(socket, session);
    }
    return session;
  }

  /**
   * Runs a serial request after the socket's earlier ones, within the queue bound, once the
   * client has read enough of the earlier answers (see OutboundGuard).
   */
  function runInOrder(socket: FerrySocket, run: () => Promise<Reply>): Promise<Reply> | null {
    const session = sessionOf(socket);
    if (session.queued >= MAX_QUEUED_REQUESTS) return null;
    const behindOthers = session.queued > 0;
    session.queued += 1;
    return session.queue
      .push(async () => {
        // A request that waited behind others gets a turn of the event loop of its own:
        // with a synchronous store a queue of them would otherwise run back to back as one
        // long task, and hold up every other client (and /healthz) for as long as it is.
        if (behindOthers) await new Promise((resolve) => setImmediate(resolve));
        // Dropped meanwhile: nothing queued behind a drop may run, least of all a batch
        // that would be stored ahead of one that failed.
        if (!(await outbound.writable(socket))) {
          return reply(fail('internal', 'the socket closed first'));
        }
        return run();
      })
      .finally(() => {
        session.queued -= 1;
      });
  }

  /** Requests taken and not yet answered; a shutdown waits for them. */
  const inFlight = new InFlight();
  let draining = false;

  function onEvent(socket: FerrySocket, event: unknown, args: unknown[]): void {
    const handler = typeof event === 'string' ? handlers.get(event) : undefined;
    if (!handler) return; // not an event of ours
    const last = args.at(-1);
    const ack: Ack | null = typeof last === 'function' ? (last as Ack) : null;
    const payload = ack && args.length === 1 ? undefined : args[0];
    if (draining) {
      // Every later request on this socket is refused too, so none can overtake this one;
      // the client asks again, in order, wherever it reconnects.
      const message = 'the server is shutting down; ask again after reconnecting';
      ack?.(fail('internal', message, SHUTDOWN_RETRY_AFTER_MS));
      return;
    }
    // A send's ack latency runs from here, its arrival, to its ack (queueing included).
    const arrivedAt = event === 'send' ? performance.now() : 0;
    const task = () => handler.run(socket, payload);
    const run = handler.order === 'serial' ? runInOrder(socket, task) : task();
    if (!run) {
      // Refusing one request and serving later ones would let a batch overtake another;
      // dropping the socket drops everything queued with it, and the client resends in
      // order after reconnecting.
      socketLogs
        .of(socket)
        .warn(`dropping a socket with more than ${MAX_QUEUED_REQUESTS} requests queued`);
      dropSocket(socket);
      return;
    }
    const answered = run.then(
      (result) => {
        ack?.(result.answer);
        if (event === 'send') metrics.ackLatency((performance.now() - arrivedAt) / 1_000);
        // After the answer: socket.io flushes it before closing the connection.
        if (result.dropSocket) socket.disconnect(true);
      },
      (error: unknown) => {
        const fields = { err: error, event };
        socketLogs.of(socket).error(fields, `${String(event)} failed: ${messageOf(error)}`);
        ack?.(fail('internal', 'the server failed; retrying is safe'));
        // Batches behind a failed one must not be stored before it is retried, or
        // the sender's order breaks: drop the socket, and with it everything queued.
        if (event === 'send') socket.disconnect(true);
      },
    );
    void inFlight.track(answered);
  }

  io.on('connection', (socket) => {
    socketLogs.watch(socket);
    void socket.join(sessionRoom(socket.data.tokenHash));
    // Inbound arguments are untrusted: a raw client can emit anything, with or without an
    // ack, so one catch-all listener hands them to the handlers, which validate them.
    socket.onAny((event: unknown, ...args: unknown[]) => onEvent(socket, event, args));
  });

  const heads = startRoomHeads(io, { store, log, intervalMs: options.headCheckMs });

  return {
    tellRoomHeads: () => heads.tellAll(),
    drain: () => {
      draining = true;
      return inFlight.idle();
    },
    close: () => {
      clearInterval(sweep);
      heads.stop();
    },
  };
}
