import { io, type Socket } from 'socket.io-client';
import {
  type ClientToServerEvents,
  PROTOCOL_VERSION,
  type ServerToClientEvents,
  type Session,
} from '../../src/shared/protocol.ts';
import { sessionSchema } from '../../src/shared/schemas.ts';

export type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Signs up over HTTP, as the app does on its first connection. Written from
 * docs/protocol.md rather than with the app's own client, so server tests do not move
 * with it.
 */
export async function signUp(url: string, name: string, signupKey?: string): Promise<Session> {
  const answer = await postSession(url, signupKey === undefined ? { name } : { name, signupKey });
  if (answer.status !== 200 && answer.status !== 201) {
    throw new Error(`sign-up refused (${answer.status}): ${JSON.stringify(answer.body)}`);
  }
  return sessionSchema.parse(answer.body);
}

/**
 * A bare socket.io client: what a hostile or buggy client can emit, without the engine. It
 * speaks this build's protocol unless `auth` names another.
 */
export async function rawClient(url: string, auth: unknown): Promise<RawSocket> {
  const versioned =
    auth !== null && typeof auth === 'object' && !('protocol' in auth)
      ? { ...auth, protocol: PROTOCOL_VERSION }
      : auth;
  const socket: RawSocket = io(url, {
    transports: ['websocket'],
    auth: versioned as object,
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Emits any event with any arguments and waits for the ack (untyped on purpose). */
export function emitRaw(socket: RawSocket, event: string, ...args: unknown[]): Promise<unknown> {
  const untyped = socket as unknown as {
    timeout(ms: number): { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> };
  };
  return untyped.timeout(5_000).emitWithAck(event, ...args);
}

/** Emits any event with any arguments and no ack callback. */
export function emitNoAck(socket: RawSocket, event: string, ...args: unknown[]): void {
  (socket as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args);
}

/** What `POST /api/session` answered: the status and the parsed JSON body (null if none). */
export interface SessionAnswer {
  status: number;
  body: unknown;
}

/** `POST /api/session` with any body, as a client written from docs/protocol.md would. */
export async function postSession(url: string, body: unknown): Promise<SessionAnswer> {
  const response = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** What `POST /api/messages` answered: the status, the headers and the parsed JSON body. */
export interface MessagesAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * `POST /api/messages` with any body, as a client written from docs/protocol.md would: the
 * token as a Bearer header (none when null), JSON unless `headers` says otherwise.
 */
export async function postMessages(
  url: string,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<MessagesAnswer> {
  const response = await fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: await response.json().catch(() => null),
  };
}

/** A fresh sign-up key, as the app makes one: 32 random bytes, base64url. */
export function newSignupKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

/** Sends one batch and returns its ack, typed loosely for assertions. */
export async function sendBatch(
  socket: RawSocket,
  room: string,
  messages: readonly { id: string; body: string }[],
  options: { head?: boolean } = {},
): Promise<RawSendAck> {
  return (await emitRaw(socket, 'send', { room, messages, ...options })) as RawSendAck;
}

/** A `send` ack as tests read it: either shape, every field optional. */
export interface RawSendAck {
  ok: boolean;
  results?: {
    id: string;
    status: string;
    code?: string;
    seq?: number;
    retryAfterMs?: number;
  }[];
  error?: { code: string; message: string; retryAfterMs?: number };
}
