import { io, type Socket } from 'socket.io-client';
import { createSession } from '../../src/client/session-client.ts';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  Session,
} from '../../src/shared/protocol.ts';

export type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Signs up over HTTP, as the app does on its first connection. */
export function signUp(url: string, name: string): Promise<Session> {
  return createSession(url, name);
}

/** A bare socket.io client: what a hostile or buggy client can emit, without the engine. */
export async function rawClient(url: string, auth: unknown): Promise<RawSocket> {
  const socket: RawSocket = io(url, {
    transports: ['websocket'],
    auth: auth as object,
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
