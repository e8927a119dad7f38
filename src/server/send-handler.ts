import { MAX_BATCH_MESSAGES } from '../shared/limits.ts';
import type { SendAck, SendResult, StoredMessage } from '../shared/protocol.ts';
import { checkBody, outgoingMessageSchema, sendBatchSchema } from '../shared/schemas.ts';
import type { AppendInput, Author, MessageStore } from './store/message-store.ts';
import type { TokenBuckets } from './token-bucket.ts';
import { describeIssue, fail } from './wire.ts';

/**
 * One socket's rate-limit hold. When a batch is cut short by the limit, every later batch
 * from that socket is refused until one starts with the first held message: batches
 * already in flight behind the cut can never be stored ahead of it, so order is kept.
 */
export class RateGate {
  #held: { id: string; until: number } | null = null;

  /** null when `firstId` may pass (and lifts the hold); else milliseconds left to wait. */
  check(firstId: string | undefined, now: number): number | null {
    if (!this.#held) return null;
    if (firstId === this.#held.id) {
      this.#held = null;
      return null;
    }
    return Math.max(0, this.#held.until - now);
  }

  hold(id: string, until: number): void {
    this.#held = { id, until };
  }
}

export interface Sender {
  author: Author;
  gate: RateGate;
  /** Whether the sender may write to the room (checked on every batch). */
  mayEnter(room: string): Promise<boolean>;
  /** Sends newly stored messages to the room's other members. */
  broadcast(room: string, messages: StoredMessage[]): void;
}

export interface SendHandlerDeps {
  store: MessageStore;
  messageRate: TokenBuckets;
  clock: () => number;
}

/** Checks each message on its own: a bad one is rejected alone, the rest go on in order. */
function checkMessages(messages: readonly unknown[]): (SendResult | AppendInput)[] {
  return messages.map((raw) => {
    const message = outgoingMessageSchema.safeParse(raw);
    if (!message.success) {
      const rawId = (raw as { id?: unknown } | null)?.id;
      const id = typeof rawId === 'string' ? rawId.slice(0, 64) : '';
      return {
        id,
        status: 'rejected',
        code: 'invalid_message',
        reason: describeIssue(message.error),
      };
    }
    const bodyError = checkBody(message.data.body);
    if (!bodyError) return message.data;
    const reason = bodyError === 'body_empty' ? 'the message is empty' : 'the message is too long';
    return { id: message.data.id, status: 'rejected', code: bodyError, reason };
  });
}

/**
 * The `send` event: validate, authorise, rate-limit, append in one transaction, answer a
 * result per message in batch order, and broadcast what is new.
 */
export function createSendHandler({ store, messageRate, clock }: SendHandlerDeps) {
  return async function handleSend(sender: Sender, payload: unknown): Promise<SendAck> {
    const parsed = sendBatchSchema.safeParse(payload);
    if (!parsed.success) {
      const issues = parsed.error.issues;
      if (issues.some((issue) => issue.path[0] === 'messages' && issue.code === 'too_big')) {
        return fail('batch_too_large', `at most ${MAX_BATCH_MESSAGES} messages a batch`);
      }
      const badRoom = issues.some((issue) => issue.path[0] === 'room');
      return fail(badRoom ? 'invalid_room' : 'invalid_payload', describeIssue(parsed.error));
    }
    const { room, messages } = parsed.data;
    if (!(await sender.mayEnter(room)))
      return fail('forbidden', 'you are not a member of this room');

    const slots = checkMessages(messages);
    const valid = slots.filter((slot): slot is AppendInput => !('status' in slot));
    const waitMs = sender.gate.check(valid[0]?.id, clock());
    if (waitMs !== null)
      return fail('rate_limited', 'too many messages; resend from the first refused one', waitMs);

    const grant = messageRate.take(sender.author.id, valid.length);
    const inputs = valid.slice(0, grant.granted);
    const firstHeld = valid[grant.granted];
    if (firstHeld) sender.gate.hold(firstHeld.id, clock() + grant.retryAfterMs);

    const outcomes = await store.appendBatch(room, sender.author, inputs, clock());
    // Resending after a lost ack is the protocol working, not a flood: duplicates are free.
    messageRate.refund(
      sender.author.id,
      outcomes.filter((outcome) => outcome.status !== 'accepted').length,
    );

    const accepted: StoredMessage[] = [];
    let next = 0;
    const results = slots.map((slot): SendResult => {
      if ('status' in slot) return slot;
      const outcome = outcomes[next++];
      if (!outcome) {
        const reason = 'too many messages; this one was not stored';
        return {
          id: slot.id,
          status: 'rejected',
          code: 'rate_limited',
          reason,
          retryAfterMs: grant.retryAfterMs,
        };
      }
      if (outcome.status === 'conflict') {
        return {
          id: outcome.id,
          status: 'rejected',
          code: 'id_conflict',
          reason: 'this id is taken',
        };
      }
      if (outcome.status === 'accepted') accepted.push(outcome.message);
      return {
        id: outcome.id,
        status: outcome.status,
        seq: outcome.message.seq,
        ts: outcome.message.ts,
      };
    });

    if (accepted.length > 0) sender.broadcast(room, accepted);
    return { ok: true, results };
  };
}
