import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ErrorCode, WireError } from '../shared/errors.ts';
import { MAX_BATCH_MESSAGES } from '../shared/limits.ts';
import type {
  ClientToServerEvents,
  HistoryAck,
  JoinAck,
  PingAck,
  SendAck,
  SendResult,
  ServerToClientEvents,
  StoredMessage,
} from '../shared/protocol.ts';
import {
  checkBody,
  handshakeAuthSchema,
  historyRequestSchema,
  joinRequestSchema,
  outgoingMessageSchema,
  pingRequestSchema,
  sendBatchSchema,
} from '../shared/schemas.ts';
import { SerialQueue } from '../shared/serial-queue.ts';
import type { AppendInput, MessageStore } from './store/message-store.ts';

export interface SocketData {
  name: string;
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

/**
 * Inbound arguments are untrusted: a raw client can emit anything, with or without an ack.
 * So handlers are registered through this untyped view and validate what they get.
 */
interface UntrustedSocket {
  on(event: string, listener: (...args: unknown[]) => void): void;
}

type Ack = (response: unknown) => void;

export interface RealtimeOptions {
  store: MessageStore;
  clock: () => number;
  log: (line: string) => void;
}

function fail(code: ErrorCode, message: string): { ok: false; error: WireError } {
  return { ok: false, error: { code, message } };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}

/** Wires the socket.io event handlers: handshake check, send, join, history and ping. */
export function attachRealtime(io: FerryIo, options: RealtimeOptions): void {
  const { store, clock, log } = options;

  io.use((socket, next) => {
    const auth = handshakeAuthSchema.safeParse(socket.handshake.auth);
    if (!auth.success) {
      const error = new Error('unauthorized') as Error & { data: WireError };
      error.data = { code: 'invalid_payload', message: `handshake auth: ${describe(auth.error)}` };
      next(error);
      return;
    }
    socket.data.name = auth.data.name;
    next();
  });

  io.on('connection', (socket) => {
    const queue = new SerialQueue();
    // Events run one at a time in arrival order, except pings: they measure the link and
    // must not wait behind a long batch or a slow history page.
    const on = (
      event: keyof ClientToServerEvents,
      handler: (payload: unknown) => Promise<unknown>,
      order: 'serial' | 'immediate' = 'serial',
    ) => {
      (socket as unknown as UntrustedSocket).on(event, (...args: unknown[]) => {
        const last = args.at(-1);
        const ack: Ack | null = typeof last === 'function' ? (last as Ack) : null;
        const payload = ack && args.length === 1 ? undefined : args[0];
        const run = order === 'serial' ? queue.push(() => handler(payload)) : handler(payload);
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
      });
    };

    on('send', async (payload) => {
      if (!socket.connected) return fail('internal', 'the socket closed before this batch ran');
      return handleSend(socket, payload);
    });
    on('join', (payload) => handleJoin(socket, payload));
    on('history', (payload) => handleHistory(payload));
    on(
      'ping',
      async (payload): Promise<PingAck> => {
        const parsed = pingRequestSchema.safeParse(payload);
        if (!parsed.success) return fail('invalid_payload', describe(parsed.error));
        return { ok: true, serverTime: clock() };
      },
      'immediate',
    );
  });

  async function handleSend(socket: FerrySocket, payload: unknown): Promise<SendAck> {
    const parsed = sendBatchSchema.safeParse(payload);
    if (!parsed.success) {
      const tooMany = parsed.error.issues.some(
        (issue) => issue.path[0] === 'messages' && issue.code === 'too_big',
      );
      if (tooMany) return fail('batch_too_large', `at most ${MAX_BATCH_MESSAGES} messages a batch`);
      const badRoom = parsed.error.issues.some((issue) => issue.path[0] === 'room');
      return fail(badRoom ? 'invalid_room' : 'invalid_payload', describe(parsed.error));
    }
    const { room, messages } = parsed.data;

    // Check each message on its own: a bad one is rejected alone, the rest go on in order.
    const slots: (SendResult | AppendInput)[] = messages.map((raw) => {
      const message = outgoingMessageSchema.safeParse(raw);
      if (!message.success) {
        const id =
          typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : '';
        return { id, status: 'rejected', code: 'invalid_message', reason: describe(message.error) };
      }
      const bodyError = checkBody(message.data.body);
      if (bodyError) {
        const reason =
          bodyError === 'body_empty' ? 'the message is empty' : 'the message is too long';
        return { id: message.data.id, status: 'rejected', code: bodyError, reason };
      }
      return message.data;
    });
    const inputs = slots.filter((slot): slot is AppendInput => !('status' in slot));
    const outcomes = await store.appendBatch(room, socket.data.name, inputs, clock());

    const accepted: StoredMessage[] = [];
    let next = 0;
    const results = slots.map((slot): SendResult => {
      if ('status' in slot) return slot;
      const outcome = outcomes[next++];
      if (!outcome) throw new Error('store returned fewer outcomes than inputs');
      if (outcome.status === 'conflict') {
        return {
          id: outcome.id,
          status: 'rejected',
          code: 'id_conflict',
          reason: 'this id is taken',
        };
      }
      if (outcome.status === 'accepted') accepted.push(outcome.message);
      const { seq, ts } = outcome.message;
      return { id: outcome.id, status: outcome.status, seq, ts };
    });

    if (accepted.length > 0) socket.to(room).emit('messages', { room, messages: accepted });
    return { ok: true, results };
  }

  async function handleJoin(socket: FerrySocket, payload: unknown): Promise<JoinAck> {
    const parsed = joinRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_room', describe(parsed.error));
    const { room } = parsed.data;
    await socket.join(room);
    return { ok: true, room, latestSeq: await store.latestSeq(room) };
  }

  async function handleHistory(payload: unknown): Promise<HistoryAck> {
    const parsed = historyRequestSchema.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', describe(parsed.error));
    const request = parsed.data;
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
}
