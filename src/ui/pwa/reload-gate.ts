import type { ConnectionStatus } from '../../client/connection.ts';

/**
 * Whether the page may reload now to switch to a new version:
 * - `ready`: nothing is in flight. Pending messages are safe in IndexedDB and go out after
 *   the reload; while the link is down none of them is on the wire.
 * - `flushing`: connected with a non-empty outbox, so batches are on the wire and their
 *   acks are coming. A reload would drop those acks and resend the batches: the server
 *   would dedupe them, but the user would watch messages flicker back to pending. Wait.
 */
export type ReloadGate = { kind: 'ready' } | { kind: 'flushing'; outboxCount: number };

export function reloadGate(status: ConnectionStatus, outboxCount: number): ReloadGate {
  return status === 'connected' && outboxCount > 0
    ? { kind: 'flushing', outboxCount }
    : { kind: 'ready' };
}
