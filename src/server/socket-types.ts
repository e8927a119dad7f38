import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/protocol.ts';

/**
 * What the handshake puts on a socket: who it is, which session it belongs to, and which
 * protocol its client speaks.
 */
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

export type FerrySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
