import type { WireError } from '../shared/errors.ts';
import { clampRetryAfterMs } from '../shared/limits.ts';
import type { SlotsPerKey } from './slots.ts';
import type { FerrySocket } from './socket-types.ts';

type Next = (error?: Error) => void;

/**
 * The longest a stale socket can hold a slot: the heartbeat gives up on a dropped link
 * within one ping interval plus the ping timeout (35 s with PING_INTERVAL_MS and
 * PING_TIMEOUT_MS). Read from the engine, so a server run with another heartbeat asks for
 * its own.
 */
function staleSocketLifeMs(socket: FerrySocket): number {
  const { pingInterval = 0, pingTimeout = 0 } = socket.nsp.server.engine.opts;
  return pingInterval + pingTimeout;
}

/**
 * The socket.io middleware, run after the handshake has set `socket.data.userId`, that
 * refuses a socket past the cap with a `rate_limited` connect error. A full cap is most
 * often the user's own stale sockets, left by a link that dropped, so the wait asked for
 * is the longest one can last: by then a slot has freed unless the user really has that
 * many tabs open.
 *
 * Live sockets are counted per user from the handshake on: a slot is taken before
 * socket.io connects the socket, so handshakes that run at the same time cannot all slip
 * under the cap, and given back when the socket or its connection closes, whichever comes
 * first.
 */
export function createSocketCap(slots: SlotsPerKey) {
  return function capSockets(socket: FerrySocket, next: Next): void {
    const release = slots.acquire(socket.data.userId);
    if (!release) {
      const error: WireError = {
        code: 'rate_limited',
        message: `this account has ${slots.max} connections open, the most it may: close a tab`,
        retryAfterMs: clampRetryAfterMs(staleSocketLifeMs(socket)),
      };
      next(Object.assign(new Error(error.code), { data: error }));
      return;
    }
    // A socket refused later, or whose connection closes before it connects, never emits
    // `disconnect`; its connection always closes.
    socket.conn.once('close', release);
    socket.once('disconnect', release);
    next();
  };
}
