import { PERMANENT_MESSAGE_ERRORS } from '../shared/errors.ts';
import type { SendAck, StoredOp } from '../shared/protocol.ts';
import type { FailedOp } from './local-store.ts';
import type { FailedMessage, MessageError, OutboxEntry, SentMessage } from './types.ts';

/** What one `send` ack does to the local state. */
export interface Settlement {
  sent: SentMessage[];
  failed: FailedMessage[];
  /** Edits and deletes the server stored, as they stand in the room log. */
  ops: StoredOp[];
  /** Edits and deletes it refused for good. */
  failedOps: FailedOp[];
  /** Outbox entries that are done (sent or failed for good). The others are sent again. */
  settledOutboxKeys: number[];
  /**
   * Set when the server held messages back (its rate limit, or a store that could not
   * write): wait this long, then resend from the head.
   */
  retryAfterMs: number | null;
}

export interface SettleContext {
  /** The session the batch was sent with: the server stored it under this author. */
  author: { id: string; name: string };
  /** Stands in for the typing time of entries queued before outbox entries carried one. */
  now: number;
}

/** A settlement that changes nothing yet. */
export function emptySettlement(): Settlement {
  return {
    sent: [],
    failed: [],
    ops: [],
    failedOps: [],
    settledOutboxKeys: [],
    retryAfterMs: null,
  };
}

const NOT_ANSWERED: MessageError = {
  code: 'internal',
  reason: 'the server did not answer for this message',
};

/**
 * Turns an ack into a settlement, message by message, in batch order:
 * accepted or duplicate -> sent (with the server's seq and ts); a permanent rejection ->
 * failed (leaves the outbox); rate-limited or unanswered -> stays in the outbox, in place,
 * so it goes out again in the same order. A refusal of the whole batch fails all of it,
 * except `rate_limited` and `internal`, which are transient: both hold the batch for the
 * server's `retryAfterMs` (a second when an `internal` carries none), so a server that
 * keeps failing is asked again at a walk, never in a loop of new links.
 */
export function settleAck(
  entries: readonly OutboxEntry[],
  ack: SendAck,
  context: SettleContext,
): Settlement {
  const settlement = emptySettlement();
  const holdFor = (ms: number | undefined) => {
    settlement.retryAfterMs = Math.max(settlement.retryAfterMs ?? 0, ms ?? 1_000);
  };
  if (!ack.ok && (ack.error.code === 'rate_limited' || ack.error.code === 'internal')) {
    holdFor(ack.error.retryAfterMs);
    return settlement;
  }

  entries.forEach((entry, index) => {
    const base = {
      id: entry.id,
      room: entry.room,
      authorId: context.author.id,
      author: entry.author || context.author.name,
      body: entry.body,
    };
    let error: MessageError;
    if (ack.ok) {
      const result = ack.results[index];
      if (result?.id !== entry.id) return; // unanswered: send again
      if (result.status !== 'rejected') {
        const { seq, ts } = result;
        if (entry.op) settlement.ops.push({ ...base, ...entry.op, seq, ts });
        else settlement.sent.push({ ...base, status: 'sent', seq, ts });
        settlement.settledOutboxKeys.push(entry.key);
        return;
      }
      if (result.code === 'rate_limited') {
        holdFor(result.retryAfterMs);
        return;
      }
      error = { code: result.code, reason: result.reason };
      if (!PERMANENT_MESSAGE_ERRORS.has(error.code)) error = NOT_ANSWERED;
    } else {
      error = { code: ack.error.code, reason: ack.error.message };
    }
    if (error === NOT_ANSWERED) return;
    failEntry(settlement, entry, error, context);
  });
  return settlement;
}

/**
 * An entry refused for good: a message fails (the user may edit, retry or discard it); an
 * operation is dropped, and its refusal is shown on its message.
 */
function failEntry(
  settlement: Settlement,
  entry: OutboxEntry,
  error: MessageError,
  context: SettleContext,
): void {
  settlement.settledOutboxKeys.push(entry.key);
  if (entry.op) {
    settlement.failedOps.push({ id: entry.id, target: entry.op.target, error });
    return;
  }
  settlement.failed.push({
    id: entry.id,
    room: entry.room,
    authorId: context.author.id,
    author: entry.author || context.author.name,
    body: entry.body,
    status: 'failed',
    order: entry.key,
    createdAt: entry.createdAt || context.now,
    error,
  });
}

/** A message (or an edit) no batch can carry (far over the length limit) fails on the device. */
export function settleOversize(entry: OutboxEntry, context: SettleContext): Settlement {
  const settlement = emptySettlement();
  failEntry(
    settlement,
    entry,
    { code: 'body_too_long', reason: 'the message is too long to send' },
    context,
  );
  return settlement;
}
