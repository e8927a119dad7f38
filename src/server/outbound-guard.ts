import type { Logger } from './logger.ts';
import type { FerrySocket } from './socket-types.ts';

/**
 * The parts of engine.io 6's connection that hold what was written to a socket and not yet
 * taken by the network. engine.io has no public accessor for them (both are private in its
 * typings), so they are read through this narrow shape, every field optional: a future
 * version without them reads as "nothing pending" rather than crashing.
 */
interface EngineConnection {
  /** Packets waiting while the transport is busy with earlier ones. */
  writeBuffer?: readonly { data?: unknown }[];
  /** On the WebSocket transport, the `ws` socket, whose `bufferedAmount` is in bytes. */
  transport?: { socket?: { bufferedAmount?: unknown } };
}

/** How often pending output is checked for sockets that are not asking for anything. */
export const OUTBOUND_SWEEP_MS = 1_000;
/** How often a request held back by a full buffer looks again. */
const BACKPRESSURE_POLL_MS = 20;
/** Past this many times `maxBytes`, a socket is dropped at once, whatever it is doing. */
const HARD_LIMIT_FACTOR = 4;

/** Bytes written to `socket` that the network has not taken yet. */
export function pendingBytes(socket: FerrySocket): number {
  const connection = socket.conn as unknown as EngineConnection;
  let bytes = 0;
  for (const packet of connection.writeBuffer ?? []) {
    const { data } = packet;
    if (typeof data === 'string') bytes += data.length;
    else if (Buffer.isBuffer(data)) bytes += data.byteLength;
  }
  const buffered = connection.transport?.socket?.bufferedAmount;
  return typeof buffered === 'number' ? bytes + buffered : bytes;
}

/**
 * Drops a socket and frees what it holds at once. socket.io's own disconnect closes the
 * WebSocket politely, behind everything still buffered, which a client that reads nothing
 * never takes: destroying the TCP socket releases those buffers now.
 */
export function dropSocket(socket: FerrySocket): void {
  socket.disconnect(true);
  socket.request.socket.destroy();
}

export interface OutboundGuardOptions {
  maxBytes: number;
  stallMs: number;
  clock: () => number;
  /** The socket's own logger (see SocketLogs), which says who was dropped. */
  logOf: (socket: FerrySocket) => Logger;
}

/** A socket's pending output at its last check, and when it last went down. */
interface Progress {
  lastBytes: number;
  movedAt: number;
}

/**
 * Bounds what the server holds for clients that do not read. A request does not start
 * while its socket's pending output is past `maxBytes` (backpressure: a slow reader is
 * served at its own pace); a socket whose pending output goes down at none of its checks
 * for `stallMs` (it took no byte), or grows past four times the bound, is dropped.
 * Unsolicited pongs keep engine.io's heartbeat happy, so this, not the heartbeat, is what
 * ends a socket that reads nothing.
 */
export class OutboundGuard {
  readonly #options: OutboundGuardOptions;
  /** Only sockets with output pending have an entry, so idle ones cost nothing. */
  readonly #progress = new WeakMap<FerrySocket, Progress>();

  constructor(options: OutboundGuardOptions) {
    this.#options = options;
  }

  /**
   * Resolves true once the socket's pending output is within the bound, or false if the
   * socket is gone meanwhile (dropped here if it stalled).
   */
  async writable(socket: FerrySocket): Promise<boolean> {
    while (socket.connected && pendingBytes(socket) > this.#options.maxBytes) {
      if (this.#check(socket)) return false;
      await new Promise((resolve) => setTimeout(resolve, BACKPRESSURE_POLL_MS));
    }
    return socket.connected;
  }

  /** Checks every socket's pending output; called every OUTBOUND_SWEEP_MS. */
  sweep(sockets: Iterable<FerrySocket>): void {
    for (const socket of sockets) this.#check(socket);
  }

  /** Whether `socket` was dropped: past the hard limit, or stalled for `stallMs`. */
  #check(socket: FerrySocket): boolean {
    const bytes = pendingBytes(socket);
    const now = this.#options.clock();
    const { maxBytes, stallMs } = this.#options;
    if (bytes === 0) {
      this.#progress.delete(socket);
      return false;
    }
    if (bytes > maxBytes * HARD_LIMIT_FACTOR) {
      this.#drop(socket, `over ${HARD_LIMIT_FACTOR * maxBytes} bytes of output pending`);
      return true;
    }
    const progress = this.#progress.get(socket);
    // Only the client taking bytes lowers the level, so any fall since the previous check is
    // progress. A reader that also asks for more pages refills what it takes and keeps the
    // level flat on average; measured against a low mark instead, it would look stalled.
    // (Nothing public counts bytes the network took: engine.io's buffers are private, and
    // a TCP socket's bytesWritten counts bytes handed to it, not bytes taken.)
    if (!progress) {
      this.#progress.set(socket, { lastBytes: bytes, movedAt: now });
      return false;
    }
    if (bytes < progress.lastBytes) progress.movedAt = now;
    progress.lastBytes = bytes;
    if (now - progress.movedAt < stallMs) return false;
    this.#drop(socket, `its pending output did not go down for ${stallMs} ms`);
    return true;
  }

  #drop(socket: FerrySocket, why: string): void {
    this.#progress.delete(socket);
    this.#options.logOf(socket).warn({ why }, `dropping a socket that reads nothing: ${why}`);
    dropSocket(socket);
  }
}
