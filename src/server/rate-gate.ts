import { clampRetryAfterMs } from '../shared/limits.ts';

/**
 * Batches that may still arrive, after a hold's wait is over, without starting with the
 * held message: those the client had in flight before it saw the refusal. Ferry's client
 * keeps at most 10 batches in flight; past this many, the client's head has moved on
 * without the held message (see `RateGate`).
 */
export const LATE_BATCHES_ALLOWED = 16;

/**
 * Why a message is held, which is also what the batches refused behind it are answered:
 * the rate limit cut a batch short, or the store could not write a batch.
 */
export type HoldReason = 'rate_limited' | 'internal';

/** What the gate says about a batch. */
export type GateVerdict =
  | { kind: 'pass' }
  /** Refuse the batch whole; the client resends from its head after the wait. */
  | { kind: 'wait'; reason: HoldReason; retryAfterMs: number }
  /** Refuse it and drop the socket: this hold can no longer be met on this connection. */
  | { kind: 'drop'; reason: HoldReason; retryAfterMs: number };

const PASS: GateVerdict = { kind: 'pass' };

/**
 * One socket's hold. When a batch is cut short by the rate limit, or the store fails to
 * write it, every later batch from that socket is refused until the first held message is
 * dealt with, so that batches in flight behind it can never be stored ahead of it. The
 * hold lifts when a batch starts with the held message, or when the client says the batch
 * starts at the head of its outbox (`head: true`): everything before the head is stored
 * already, so such a batch can never overtake anything, even when another tab stored the
 * held message and the client's head has moved past it.
 *
 * It never lifts on time, nor because the held message got stored: a batch emitted before
 * the client saw the refusal can arrive after the wait on a slow uplink, and another tab
 * may have stored the held message but not the ones after it. Storing that batch would
 * put it ahead of them and reorder the sender's messages.
 *
 * A hold that can no longer be met (the client's head moved on and the held message was
 * never stored, say it was discarded) is not refused forever: after LATE_BATCHES_ALLOWED
 * refusals past the wait, the gate asks for the socket to be dropped. A new connection
 * starts with a fresh gate, and the client resends from its head, so order still holds.
 */
export class RateGate {
  #held: { id: string; reason: HoldReason; until: number; lateRefusals: number } | null = null;

  /**
   * Whether a batch starting with `firstId` (at the head of the client's outbox if `head`)
   * may pass now; passing lifts the hold.
   */
  check(firstId: string | undefined, now: number, head: boolean): GateVerdict {
    const held = this.#held;
    if (!held) return PASS;
    if (head || firstId === held.id) {
      this.#held = null;
      return PASS;
    }
    if (now >= held.until) held.lateRefusals += 1;
    const retryAfterMs = clampRetryAfterMs(held.until - now);
    const kind = held.lateRefusals > LATE_BATCHES_ALLOWED ? 'drop' : 'wait';
    return { kind, reason: held.reason, retryAfterMs };
  }

  /** Holds every later batch until one starts with `id` or at the client's head. */
  hold(id: string, until: number, reason: HoldReason): void {
    this.#held = { id, reason, until, lateRefusals: 0 };
  }
}
