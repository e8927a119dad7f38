import type { WireError } from '../shared/errors.ts';
import { MAX_BATCH_MESSAGES } from '../shared/limits.ts';
import type { LogEntry, SendAck, SendResult } from '../shared/protocol.ts';
import { checkBody, parseOutgoingItem, sendBatchSchema } from '../shared/schemas.ts';
import { type Logger, messageOf } from './logger.ts';
import { countSendResults, type ServerMetrics } from './metrics.ts';
import type { HoldReason, RateGate } from './rate-gate.ts';
import type {
  AppendInput,
  AppendOutcome,
  Author,
  MessageStore,
  OpRefusal,
} from './store/message-store.ts';
import { STORE_RETRY_AFTER_MS } from './store/store-errors.ts';
import type { Grant, RateBuckets } from './token-bucket.ts';
import { describeIssue, fail } from './wire.ts';

export interface Sender {
  author: Author;
  gate: RateGate;
  /** Whether the sender may write to the room (checked on every batch). */
  mayEnter(room: string): Promise<boolean>;
  /** Sends newly stored log entries (messages, edits, deletes) to the room's other members. */
  broadcast(room: string, messages: LogEntry[]): void;
  /** The sender's logger: its lines carry the user (and the socket, if any). */
  log: Logger;
}

export interface SendHandlerDeps {
  store: MessageStore;
  /** The per-user message budget, possibly shared by every process (redis-buckets.ts). */
  messageRate: RateBuckets;
  clock: () => number;
  /** Counts each batch's outcomes (NO_METRICS when metrics are off). */
  metrics: ServerMetrics;
}

/** Answers one `send` batch from `sender`; `payload` is untrusted and validated here. */
export type SendHandler = (sender: Sender, payload: unknown) => Promise<SendReply>;

/** What a batch refused by a hold is told, by the hold's reason. */
const HELD_REFUSALS: Record<HoldReason, string> = {
  rate_limited: 'too many messages; resend from the first refused one',
  internal: 'an earlier batch could not be stored; resend from it',
};

/** The answer to one batch, and whether the socket must be dropped once it is sent. */
export interface SendReply {
  ack: SendAck;
  dropSocket: boolean;
}

const reply = (ack: SendAck, dropSocket = false): SendReply => ({ ack, dropSocket });

/** What the sender of a refused edit or delete is told. */
const OP_REFUSALS: Record<OpRefusal, string> = {
  not_found: 'there is no such message in this room',
  not_author: 'only its author may edit or delete a message',
  message_deleted: 'the message was deleted',
};

/** Checks each item on its own: a bad one is rejected alone, the rest go on in order. */
function checkMessages(messages: readonly unknown[]): (SendResult | AppendInput)[] {
  return messages.map((raw) => {
    const message = parseOutgoingItem(raw);
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
    const item = message.data;
    if (item.kind === 'delete') return item;
    const input: AppendInput =
      item.kind === 'edit'
        ? { id: item.id, kind: 'edit', target: item.target, body: item.newBody }
        : { id: item.id, body: item.body };
    const bodyError = checkBody(input.body);
    if (!bodyError) return input;
    const reason = bodyError === 'body_empty' ? 'the message is empty' : 'the message is too long';
    return { id: item.id, status: 'rejected', code: bodyError, reason };
  });
}

/**
 * The refusal of a batch whose envelope is wrong. A room that is missing or not a string
 * is a payload of the wrong shape; a string that is not a room id is `invalid_room`.
 */
function refuseEnvelope(issues: readonly { path: PropertyKey[]; code: string }[], text: string) {
  if (issues.some((issue) => issue.path[0] === 'messages' && issue.code === 'too_big')) {
    return fail('batch_too_large', `at most ${MAX_BATCH_MESSAGES} messages a batch`);
  }
  const badRoomId = issues.some((i) => i.path[0] === 'room' && i.code !== 'invalid_type');
  return fail(badRoomId ? 'invalid_room' : 'invalid_payload', text);
}

/** What the rate limit lets through now: `valid[0..cut)`, having taken `tokens`. */
interface Admission {
  cut: number;
  tokens: number;
  retryAfterMs: number;
}

/**
 * The send event: validate, authorise, rate-limit, append in one transaction, answer a
 * result per message in batch order, and broadcast what is new.
 *
 * A store that fails (a database locked by another process, a full disk) is answered
 * `internal` with a `retryAfterMs`, and the batch's first message is held: the socket
 * stays up, and the batches in flight behind the failed one are refused until the client
 * resends from it, so none is stored ahead of it.
 */
export function createSendHandler({
  store,
  messageRate,
  clock,
  metrics,
}: SendHandlerDeps): SendHandler {
  /**
   * A batch refused whole: counted and logged (at `level`) with `reason`, by default the
   * refusal's code.
   */
  function refuse(
    sender: Sender,
    refusal: { ok: false; error: WireError },
    fields: object,
    options: { level?: 'debug' | 'info'; dropSocket?: boolean; reason?: string } = {},
  ): SendReply {
    const { level = 'info', dropSocket = false, reason = refusal.error.code } = options;
    metrics.batchRefused(reason);
    sender.log[level]({ ...fields, code: reason }, `batch refused: ${reason}`);
    return reply(refusal, dropSocket);
  }

  /**
   * Charges the user's bucket for the ids that are new, and cuts the batch at the first new
   * id past the grant. Ids already stored cost nothing: a resend after a lost ack is the
   * protocol working, not a flood, and must never be held.
   */
  async function admit(userId: string, valid: readonly AppendInput[]): Promise<Admission> {
    // Every id is charged first, as if all were new: when the budget covers the batch, that
    // is the only call to the bucket (one round trip where it lives in Redis) and the store
    // is not asked which ids are new. The refund after the append squares the count.
    const ids = new Set(valid.map((item) => item.id));
    const grant = await messageRate.take(userId, ids.size);
    if (grant.granted === ids.size) return { cut: valid.length, tokens: ids.size, retryAfterMs: 0 };

    // Cut short: only now does it matter which ids are new.
    let known: Set<string>;
    try {
      known = await store.storedIds([...ids]);
    } catch (error) {
      await messageRate.refund(userId, grant.granted);
      throw error;
    }
    const fresh = new Set([...ids].filter((id) => !known.has(id)));
    const { tokens, retryAfterMs } = await squareGrant(userId, grant, fresh.size);
    let left = tokens;
    for (const [index, { id }] of valid.entries()) {
      if (!fresh.has(id)) continue;
      if (left === 0) return { cut: index, tokens, retryAfterMs };
      left -= 1;
      fresh.delete(id); // a second copy of an id in one batch is charged once
    }
    return { cut: valid.length, tokens, retryAfterMs: 0 };
  }

  /**
   * Brings a grant asked for every id to what the `fresh` ones need: gives back the tokens
   * the already-stored ids took, or asks for the new ids the grant fell short of. Asking
   * again (rather than keeping the first answer) makes `retryAfterMs` count only new ids.
   */
  async function squareGrant(
    userId: string,
    grant: Grant,
    fresh: number,
  ): Promise<{ tokens: number; retryAfterMs: number }> {
    if (fresh <= grant.granted) {
      await messageRate.refund(userId, grant.granted - fresh);
      return { tokens: fresh, retryAfterMs: 0 };
    }
    const more = await messageRate.take(userId, fresh - grant.granted);
    return { tokens: grant.granted + more.granted, retryAfterMs: more.retryAfterMs };
  }

  /** Authorises, rate-limits and stores a batch the gate let through; throws if the store fails. */
  async function deliver(
    sender: Sender,
    room: string,
    slots: readonly (SendResult | AppendInput)[],
    valid: readonly AppendInput[],
  ): Promise<SendReply> {
    if (!(await sender.mayEnter(room)))
      return refuse(sender, fail('forbidden', 'you are not a member of this room'), { room });

    const userId = sender.author.id;
    const admission = await admit(userId, valid);
    const firstHeld = valid[admission.cut];
    if (firstHeld) {
      sender.gate.hold(firstHeld.id, clock() + admission.retryAfterMs, 'rate_limited');
      metrics.rateLimitHold();
      const held = valid.length - admission.cut;
      const { retryAfterMs } = admission;
      const fields = { room, messageId: firstHeld.id, held, retryAfterMs };
      sender.log.info(fields, `rate-limit hold: ${held} of the batch held back`);
    }

    const inputs = valid.slice(0, admission.cut);
    let outcomes: AppendOutcome[];
    try {
      outcomes = await store.appendBatch(room, sender.author, inputs, clock());
    } catch (error) {
      await messageRate.refund(userId, admission.tokens);
      throw error;
    }
    const accepted: LogEntry[] = [];
    for (const outcome of outcomes)
      if (outcome.status === 'accepted') accepted.push(outcome.message);
    // Duplicates, and ids another socket stored meanwhile: only what was stored now costs.
    // Nothing to give back on the common path, so no second call to the bucket.
    await messageRate.refund(userId, admission.tokens - accepted.length);

    let next = 0;
    const results = slots.map((slot): SendResult => {
      if ('status' in slot) return slot;
      const outcome = outcomes[next++];
      if (!outcome) {
        const reason = 'too many messages; this one was not stored';
        const retryAfterMs = admission.retryAfterMs;
        return { id: slot.id, status: 'rejected', code: 'rate_limited', reason, retryAfterMs };
      }
      if (outcome.status === 'conflict') {
        return {
          id: outcome.id,
          status: 'rejected',
          code: 'id_conflict',
          reason: 'this id is taken',
        };
      }
      if (outcome.status === 'refused') {
        const { code } = outcome;
        return { id: outcome.id, status: 'rejected', code, reason: OP_REFUSALS[code] };
      }
      return {
        id: outcome.id,
        status: outcome.status,
        seq: outcome.message.seq,
        ts: outcome.message.ts,
      };
    });

    if (accepted.length > 0) sender.broadcast(room, accepted);
    const rejected = countSendResults(results, metrics);
    if (rejected.length > 0) {
      sender.log.info({ room, codes: rejected }, `messages rejected: ${rejected.join(', ')}`);
    }
    return reply({ ok: true, results });
  }

  return async function handleSend(sender: Sender, payload: unknown): Promise<SendReply> {
    const parsed = sendBatchSchema.safeParse(payload);
    if (!parsed.success) {
      return refuse(sender, refuseEnvelope(parsed.error.issues, describeIssue(parsed.error)), {});
    }
    const { room, messages, head = false } = parsed.data;
    const slots = checkMessages(messages);
    const valid = slots.filter((slot): slot is AppendInput => !('status' in slot));
    // Before anything that can fail: a batch the gate refuses must leave its hold as it is.
    const verdict = sender.gate.check(valid[0]?.id, clock(), head);
    if (verdict.kind !== 'pass') {
      const refusal = fail(verdict.reason, HELD_REFUSALS[verdict.reason], verdict.retryAfterMs);
      // Debug: the batches a client had in flight behind a hold are refused as a matter of
      // course; the hold itself is the line that matters.
      const dropSocket = verdict.kind === 'drop';
      return refuse(
        sender,
        refusal,
        { room },
        { level: dropSocket ? 'info' : 'debug', dropSocket, reason: verdict.reason },
      );
    }
    try {
      return await deliver(sender, room, slots, valid);
    } catch (error) {
      const first = valid[0];
      if (first) sender.gate.hold(first.id, clock() + STORE_RETRY_AFTER_MS, 'internal');
      const message = 'the server could not store this batch; resend it from its first message';
      metrics.batchRefused('internal');
      const fields = { err: error, room, messages: valid.length };
      sender.log.error(fields, `send failed: ${messageOf(error)}`);
      return reply(fail('internal', message, STORE_RETRY_AFTER_MS));
    }
  };
}
