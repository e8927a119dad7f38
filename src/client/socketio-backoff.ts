import type { Manager } from 'socket.io-client';
import type { Backoff } from './backoff.ts';

/** The Manager's private slot that its reconnection loop asks for each delay. */
interface ManagerWithBackoff {
  backoff?: { duration(): number; reset(): void };
}

/**
 * Puts Ferry's Backoff in place of the one socket.io's Manager keeps privately. socket.io
 * reports no delay with its reconnect events, so this is how Ferry knows when the next
 * attempt comes (`nextRetryAt`), while socket.io's own loop still does the scheduling.
 * It touches a private field: test/unit/socketio-backoff.test.ts fails if an upgrade of
 * socket.io-client stops asking this backoff for its delays.
 */
export function installBackoff(manager: Manager, backoff: Backoff): void {
  const slot = manager as unknown as ManagerWithBackoff;
  if (typeof slot.backoff?.duration !== 'function') {
    throw new Error("socket.io-client's Manager has no backoff to replace: check its upgrade");
  }
  slot.backoff = backoff;
}
