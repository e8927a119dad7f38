import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

/**
 * The bare socket.io baseline: no validation, no storage, no auth. Its protocol is its own
 * (not Ferry's), so the baselines stay meaningful whatever Ferry's protocol becomes.
 */
export interface EchoClientToServer {
  /** Joins a socket.io room. */
  join: (room: string, ack: (ok: true) => void) => void;
  /** One message: broadcast to the room's other sockets, then acked. */
  msg: (message: EchoMessage, ack: (ok: true) => void) => void;
  /** Many messages in one packet: broadcast as one packet, then acked with the count. */
  batch: (batch: { room: string; messages: EchoMessage[] }, ack: (count: number) => void) => void;
}

export interface EchoServerToClient {
  msg: (message: EchoMessage) => void;
  batch: (batch: { room: string; messages: EchoMessage[] }) => void;
}

export interface EchoMessage {
  room: string;
  id: string;
  body: string;
}

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the bare echo server on 127.0.0.1 (`port` 0 picks a free one). */
export async function startEchoServer(port: number): Promise<EchoServer> {
  const http = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
  const io = new Server<EchoClientToServer, EchoServerToClient>(http, { serveClient: false });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      void socket.join(room);
      if (typeof ack === 'function') ack(true);
    });
    socket.on('msg', (message, ack) => {
      socket.to(message.room).emit('msg', message);
      if (typeof ack === 'function') ack(true);
    });
    socket.on('batch', (batch, ack) => {
      socket.to(batch.room).emit('batch', batch);
      if (typeof ack === 'function') ack(batch.messages.length);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
