import type { ConnectionStatus } from '../../client/connection.ts';
import type { ComposerState } from '../composer-activity.ts';

/**
 * Whether the page may reload now to switch to a new version:
 * - `ready`: nothing is in flight. Pending messages are safe in IndexedDB and go out after
 *   the reload; while the link is down none of them is on the wire. A draft is stored as
 *   it is typed, so it comes back in a tab that accepted the update.
 * - `sending`: a `send()` has not reached the outbox yet (an Enter just pressed). It takes
 *   milliseconds; a reload now would drop the message. Wait.
 * - `writing`: the composer holds text and the update was accepted in another tab. The
 *   user here is in the middle of something they did not agree to interrupt.
 * - `flushing`: connected with a non-empty outbox, so batches are on the wire and their
 *   acks are coming. A reload would drop those acks and resend the batches: the server
 *   would dedupe them, but the user would watch messages flicker back to pending. Wait.
 */
export type ReloadGate =
  | { kind: 'ready' }
  | { kind: 'sending' }
  | { kind: 'writing' }
  | { kind: 'flushing'; outboxCount: number };

interface ReloadFacts {
  status: ConnectionStatus;
  outboxCount: number;
  composer: ComposerState;
  /** The user pressed Reload in this tab. */
  acceptedHere: boolean;
}

export function reloadGate({
  status,
  outboxCount,
  composer,
  acceptedHere,
}: ReloadFacts): ReloadGate {
  if (composer.sending) return { kind: 'sending' };
  if (composer.writing && !acceptedHere) return { kind: 'writing' };
  if (status === 'connected' && outboxCount > 0) return { kind: 'flushing', outboxCount };
  return { kind: 'ready' };
}
