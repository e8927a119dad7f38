import type { Logger } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import type { FerrySocket } from './socket-types.ts';

type Next = (error?: Error) => void;
type Middleware = (socket: FerrySocket, next: Next) => void;

/** The code of a refused handshake (`err.data.code`, see handshake.ts and socket-caps.ts). */
function refusalCode(error: Error): string {
  const data = (error as { data?: { code?: unknown } }).data;
  return typeof data?.code === 'string' ? data.code : 'internal';
}

/**
 * Each socket's logger: a child of the server's whose every line carries the socket's
 * `userId` and `socketId`. One per connection, made at its first line past `connected`
 * (a request, its disconnect) and dropped with it: an idle connection holds none, which
 * keeps memory per connection near bare socket.io's (docs/benchmarks.md).
 */
export class SocketLogs {
  readonly #log: Logger;
  readonly #bySocket = new WeakMap<FerrySocket, Logger>();
  /**
   * One listener shared by every socket (socket.io calls it with the socket as `this`): a
   * closure per socket would cost each idle connection a few hundred bytes.
   */
  readonly #onDisconnect: (this: FerrySocket, reason: string) => void;

  constructor(log: Logger) {
    this.#log = log;
    const logs = this;
    this.#onDisconnect = function (this: FerrySocket, reason: string) {
      logs.of(this).info({ reason }, 'disconnected');
    };
  }

  of(socket: FerrySocket): Logger {
    let log = this.#bySocket.get(socket);
    if (!log) {
      log = this.#log.child({ userId: socket.data.userId, socketId: socket.id });
      this.#bySocket.set(socket, log);
    }
    return log;
  }

  /** Logs the socket's connection now, and its disconnect with socket.io's reason. */
  watch(socket: FerrySocket): void {
    // The same fields as the child's lines, without making the child yet.
    this.#log.info({ userId: socket.data.userId, socketId: socket.id }, 'connected');
    socket.on('disconnect', this.#onDisconnect);
  }
}

/**
 * `middleware` (a handshake check), with each refusal it makes logged with its code and
 * the client's address, and counted in `ferry_handshake_refusals_total`.
 */
export function recordingRefusals(
  middleware: Middleware,
  log: Logger,
  metrics: ServerMetrics,
): Middleware {
  return (socket, next) =>
    middleware(socket, (error) => {
      if (error) {
        const code = refusalCode(error);
        metrics.handshakeRefused(code);
        const fields = {
          code,
          socketId: socket.id,
          userId: socket.data.userId,
          address: socket.handshake.address,
        };
        log.info(fields, `handshake refused: ${code}`);
      }
      next(error);
    });
}
