import type { Server, Socket } from 'socket.io';
import type { WireError } from '../shared/errors.ts';
import { INVITE_SECRET_BYTES } from '../shared/limits.ts';
import type {
  ClientToServerEvents,
  CreateRoomAck,
  HistoryAck,
  JoinAck,
  PingAck,
  ServerToClientEvents,
} from '../shared/protocol.ts';
import {
  createRoomRequestSchema,
  handshakeAuthSchema,
  historyRequestSchema,
  joinRequestSchema,
  pingRequestSchema,
} from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import { hashSecret, newSecret, secretMatches } from './secrets.ts';
import { createSendHandler, RateGate, type Sender } from './send-handler.ts';
import type { AccountStore } from './store/account-store.ts';
import type { MessageStore } from './store/message-store.ts';
import type { TokenBuckets } from './token-bucket.ts';
import { describeIssue, fail } from './wire.ts';

export interface SocketData {
  userId: string;
  name: string;
  tokenHash: string;
}

// biome-ignore lint/complexity/noBannedTypes: socket.io's slot for inter-server events, unused
type InterServerEvents = {};
export type FerryIo = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
type FerrySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

type Ack = (response: unknown) => void;
/** Handles one inbound event; `payload` is untrusted and validated by the handler. */
type Handler = (socket: FerrySocket, payload: unknown) => Promise<unknown>;

/** What a connection holds once it has sent a request. */
interface ConnectionState {
  queue: SerialQueue;
  sender: Sender;
}

export interface RealtimeOptions {
  store: MessageStore;
  accounts: AccountStore;
  messageRate: TokenBuckets;
  clock: () => number;
  log: (line: string) => void;
}

/** The socket.io room that holds every socket of one session, so revoking can reach them. */
export function sessionRoom(tokenHash: string): string {
  return `session:${tokenHash}`;
}

/** Private room ids: random, so a room's existence is not guessable from its id either. */
const PRIVATE_ROOM_ID_BYTES = 12;

/** Wires the socket.io side: handshake auth, then send, join, history, createRoom, ping. */
export function attachRealtime(io: FerryIo, options: RealtimeOptions): void {
  const { store, accounts, clock, log } = options;
  const handleSend = createSendHandler(options);

  io.use((socket, next) => {
    const refuse = (message: string) => {
      const error = new Error('unauthorized') as Error & { data: WireError };
      error.data = { code: 'unauthorized', message };
      next(error);
    };
    const auth = handshakeAuthSchema.safeParse(socket.handshake.auth);
    if (!auth.success) {
      refuse('a session token is required');
      return;
    }
    const tokenHash = hashSecret(auth.data.token);
    accounts.sessionUser(tokenHash).then(
      (user) => {
        if (!user) {
          refuse('this session is not valid (signed out or revoked)');
          return;
        }
        socket.data.userId = user.userId;
        socket.data.name = user.name;
        socket.data.tokenHash = tokenHash;
        next();
      },
      (error: unknown) => {
        log(`session lookup failed: ${error instanceof Error ? error.message : String(error)}`);
        next(new Error('server error'));
      },
    );
  });

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
          if (!socket.connected) return fail('internal', 'the socket closed before this batch ran');
          return handleSend(stateOf(socket).sender, payload);
        },
      },
    ],
    ['join', { order: 'serial', run: (socket, payload) => handleJoin(socket, payload) }],
    ['history', { order: 'serial', run: (socket, payload) => handleHistory(socket, payload) }],
    [
      'createRoom',
      {
        order: 'serial',
        run: async (socket, payload) => {
          const parsed = createRoomRequestSchema.safeParse(payload);
          if (!parsed.success) return fail('invalid_payload', 'createRoom takes an empty object');
          return handleCreateRoom(socket);
        },
      },
    ],
    [
      'ping',
      {
        order: 'immediate',
        run: async (_socket, payload): Promise<PingAck> => {
          const parsed = pingRequestSchema.safeParse(payload);
          if (!parsed.success) return fail('invalid_payload', describeIssue(parsed.error));
          return { ok: true, serverTime: clock() };
        },
      },
    ],
  ]);

  /**
   * Per-socket state, made at a socket's first request: an idle connection holds only its
   * one listener, which keeps Ferry's memory per connection near bare socket.io's (see
   * docs/benchmarks.md).
   */
  const connections = new WeakMap<FerrySocket, ConnectionState>();
  function stateOf(socket: FerrySocket): ConnectionState {
    let state = connections.get(socket);
    if (!state) {
      state = {
        queue: new SerialQueue(),
        sender: {
          author: { id: socket.data.userId, name: socket.data.name },
          gate: new RateGate(),
          mayEnter: (room) => mayEnter(socket, room),
          broadcast: (room, messages) => socket.to(room).emit('messages', { room, messages }),
        },
      };
      connections.set(socket, state);
    }
    return state;
  }

  function onEvent(socket: FerrySocket, event: unknown, args: unknown[]): void {
    const handler = typeof event === 'string' ? handlers.get(event) : undefined;
    if (!handler) return; // not an event of ours
    const last = args.at(-1);
    const ack: Ack | null = typeof last === 'function' ? (last as Ack) : null;
    const payload = ack && args.length === 1 ? undefined : args[0];
    const run =
      handler.order === 'serial'
        ? stateOf(socket).queue.push(() => handler.run(socket, payload))
        : handler.run(socket, payload);
    run.then(
      (response) => ack?.(response),
      (error: unknown) => {
        log(`${event} failed: ${error instanceof Error ? error.message : String(error)}`);
        ack?.(fail('internal', 'the server failed; retrying is safe'));
        // Batches behind a failed one must not be stored before it is retried, or
        // the sender's order breaks: drop the socket, and with it everything queued.
        if (event === 'send') socket.disconnect(true);
      },
    );
  }

  io.on('connection', (socket) => {
    void socket.join(sessionRoom(socket.data.tokenHash));
    // Inbound arguments are untrusted: a raw client can emit anything, with or without an
    // ack, so one catch-all listener hands them to the handlers, which validate them.
    socket.onAny((event: unknown, ...args: unknown[]) => onEvent(socket, event, args));
  });

  /** Checked on every event, not only at join: membership is the gate for each read and write. */
  async function mayEnter(socket: FerrySocket, room: string): Promise<boolean> {
    const access = await accounts.roomAccess(room);
    return access.kind === 'public' || (await accounts.isMember(room, socket.data.userId));
  }

  async function handleJoin(socket: FerrySocket, payload: unknown): Promise<JoinAck> {
    const parsed = joinRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_room', describeIssue(parsed.error));
    const { room, invite } = parsed.data;
    const access = await accounts.roomAccess(room);
    if (access.kind === 'private' && !(await accounts.isMember(room, socket.data.userId))) {
      if (!invite || !secretMatches(invite, access.inviteHash)) {
        return fail('forbidden', 'this room is private: open it with a valid invite link');
      }
      await accounts.addMember(room, socket.data.userId, clock());
    }
    await socket.join(room);
    return { ok: true, room, latestSeq: await store.latestSeq(room) };
  }

  async function handleHistory(socket: FerrySocket, payload: unknown): Promise<HistoryAck> {
    const parsed = historyRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', describeIssue(parsed.error));
    const request = parsed.data;
    if (!(await mayEnter(socket, request.room)))
      return fail('forbidden', 'you are not a member of this room');
    const messages =
      'after' in request
        ? await store.pageAfter(request.room, request.after, request.limit)
        : await store.pageBefore(request.room, request.before, request.limit);
    return {
      ok: true,
      room: request.room,
      messages,
      latestSeq: await store.latestSeq(request.room),
    };
  }

  async function handleCreateRoom(socket: FerrySocket): Promise<CreateRoomAck> {
    const room = newSecret(PRIVATE_ROOM_ID_BYTES);
    const invite = newSecret(INVITE_SECRET_BYTES);
    await accounts.createPrivateRoom(
      { room, inviteHash: hashSecret(invite), createdBy: socket.data.userId },
      clock(),
    );
    return { ok: true, room, invite };
  }
}
