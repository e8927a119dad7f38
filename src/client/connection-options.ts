import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type {
  ClientToServerEvents,
  HandshakeAuth,
  ServerToClientEvents,
} from '../shared/protocol.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Connectivity } from './connectivity.ts';
import type { Timers } from './timers.ts';
import type { Visibility } from './visibility.ts';

/** What a Connection is made with: the server, the platform's signals, timings, and seams for tests. */

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type SocketFactory = (
  url: string,
  options: Partial<ManagerOptions & SocketOptions>,
) => ClientSocket;

export interface ConnectionOptions {
  url: string;
  /**
   * The handshake credentials, read at every (re)connect once the transport is open (so
   * the server is reachable); may create the session first. A rejection fails the attempt.
   */
  auth: () => Promise<HandshakeAuth>;
  /**
   * The protocol version sent in the handshake: PROTOCOL_VERSION unless a test poses as an
   * older build.
   */
  protocolVersion?: number;
  /** The server refused the handshake (bad or revoked session, for instance). */
  onRefused?: (refusal: { code: string | undefined; reason: string }) => void;
  connectivity?: Connectivity;
  visibility?: Visibility;
  backoff?: BackoffPolicy;
  maxAttempts?: number;
  connectTimeoutMs?: number;
  heartbeat?: { intervalMs?: number; timeoutMs?: number };
  /** Silence that fails a request; see REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  clock?: () => number;
  /** Timers for the heartbeat, request timeouts and kicks (the clock comes from `clock`). */
  timers?: Timers;
  random?: () => number;
  /** Extra socket.io options (tests shorten timeouts here). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** Makes the socket.io socket; `io` from socket.io-client unless a test swaps it. */
  createSocket?: SocketFactory;
}

/** A malformed ack or event from the server. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
