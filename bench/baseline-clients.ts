import { io, type Socket } from 'socket.io-client';
import type { EchoClientToServer, EchoMessage, EchoServerToClient } from './servers/echo-server.ts';

export type EchoSocket = Socket<EchoServerToClient, EchoClientToServer>;

/**
 * With `retries`/`ackTimeout`, socket.io-client calls acks as `(error, ...answer)`, which its
 * event-map types do not express; emits with such acks go through this view.
 */
interface RetryingEmitter {
  emit(event: 'msg', message: EchoMessage, ack: (error: Error | null) => void): void;
}

/** A bare socket.io client for the echo server, not connected yet (`connect()` starts it). */
export function echoSocket(
  url: string,
  options: { retries?: number; ackTimeoutMs?: number } = {},
): EchoSocket {
  return io(url, {
    transports: ['websocket'],
    forceNew: true,
    autoConnect: false,
    reconnection: false,
    ...(options.retries === undefined
      ? {}
      : { retries: options.retries, ackTimeout: options.ackTimeoutMs }),
  });
}

/** Connects and resolves once the handshake is done. */
export function connectEcho(socket: EchoSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
    socket.connect();
  });
}

/** Emits with socket.io's retry queue: it sends the next packet only after the last ack. */
export function emitWithRetries(socket: EchoSocket, message: EchoMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    (socket as unknown as RetryingEmitter).emit('msg', message, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}
