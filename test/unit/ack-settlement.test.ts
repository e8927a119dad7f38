// What one `send` ack does to the device, message by message: sent, failed for good, or
// held in the outbox to go out again in the same order.
import { describe, expect, it } from 'vitest';
import {
  emptySettlement,
  type SettleContext,
  type Settlement,
  settleAck,
  settleOversize,
} from '../../src/client/ack-settlement.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import type {
  FailedMessage,
  MessageError,
  OutboxEntry,
  SentMessage,
} from '../../src/client/types.ts';
import { type ErrorCode, PERMANENT_MESSAGE_ERRORS } from '../../src/shared/errors.ts';
import type { SendAck, SendResult } from '../../src/shared/protocol.ts';

const NOW = 1_700_000_000_000;
const CONTEXT: SettleContext = { author: { id: 'user-ada', name: 'Ada' }, now: NOW };

/** An outbox entry typed as "Ada on the train" at 1000 + key: not the session's name, not now. */
function entry(key: number, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    key,
    id: `m${key}`,
    room: 'lobby',
    body: `body ${key}`,
    author: 'Ada on the train',
    createdAt: 1_000 + key,
    ...overrides,
  };
}

const one = entry(1);
const two = entry(2);
const three = entry(3);

function accepted(of: OutboxEntry, seq: number): SendResult {
  return { id: of.id, status: 'accepted', seq, ts: 50_000 + seq };
}

function duplicate(of: OutboxEntry, seq: number): SendResult {
  return { id: of.id, status: 'duplicate', seq, ts: 40_000 + seq };
}

function rejected(of: OutboxEntry, code: ErrorCode, retryAfterMs?: number): SendResult {
  return { id: of.id, status: 'rejected', code, reason: `no: ${code}`, retryAfterMs };
}

function results(...list: SendResult[]): SendAck {
  return { ok: true, results: list };
}

function refused(code: ErrorCode, retryAfterMs?: number): SendAck {
  return { ok: false, error: { code, message: `batch refused: ${code}`, retryAfterMs } };
}

function sent(of: OutboxEntry, seq: number, ts: number): SentMessage {
  return {
    id: of.id,
    room: of.room,
    authorId: CONTEXT.author.id,
    author: of.author,
    body: of.body,
    status: 'sent',
    seq,
    ts,
  };
}

function failed(of: OutboxEntry, error: MessageError): FailedMessage {
  return {
    id: of.id,
    room: of.room,
    authorId: CONTEXT.author.id,
    author: of.author,
    body: of.body,
    status: 'failed',
    order: of.key,
    createdAt: of.createdAt,
    error,
  };
}

function settlement(change: Partial<Settlement>): Settlement {
  return { ...emptySettlement(), ...change };
}

describe('settleAck', () => {
  const cases: { name: string; entries: OutboxEntry[]; ack: SendAck; expected: Settlement }[] = [
    {
      name: 'marks every message sent, with the server seq and ts, when all were accepted',
      entries: [one, two],
      ack: results(accepted(one, 7), accepted(two, 8)),
      expected: settlement({
        sent: [sent(one, 7, 50_007), sent(two, 8, 50_008)],
        settledOutboxKeys: [1, 2],
      }),
    },
    {
      name: 'counts a duplicate as sent, under the seq and ts the server stored it with first',
      entries: [one, two],
      ack: results(duplicate(one, 3), accepted(two, 9)),
      expected: settlement({
        sent: [sent(one, 3, 40_003), sent(two, 9, 50_009)],
        settledOutboxKeys: [1, 2],
      }),
    },
    {
      name: 'holds a rate-limited message in the outbox and waits as long as the server said',
      entries: [one, two],
      ack: results(accepted(one, 4), rejected(two, 'rate_limited', 2_500)),
      expected: settlement({
        sent: [sent(one, 4, 50_004)],
        settledOutboxKeys: [1],
        retryAfterMs: 2_500,
      }),
    },
    {
      name: 'waits for the longest retryAfterMs among the held messages',
      entries: [one, two, three],
      ack: results(
        rejected(one, 'rate_limited', 700),
        rejected(two, 'rate_limited', 3_000),
        rejected(three, 'rate_limited', 1_200),
      ),
      expected: settlement({ retryAfterMs: 3_000 }),
    },
    {
      name: 'waits 1000 ms for a rate-limited message whose answer names no wait',
      entries: [one],
      ack: results(rejected(one, 'rate_limited')),
      expected: settlement({ retryAfterMs: 1_000 }),
    },
    {
      name: 'keeps a server wait of 0 ms as 0 (the flusher applies its own floor)',
      entries: [one],
      ack: results(rejected(one, 'rate_limited', 0)),
      expected: settlement({ retryAfterMs: 0 }),
    },
    {
      name: 'holds the whole batch when the whole batch is rate-limited',
      entries: [one, two],
      ack: refused('rate_limited', 4_000),
      expected: settlement({ retryAfterMs: 4_000 }),
    },
    {
      name: 'waits 1000 ms on a whole-batch rate limit that names no wait',
      entries: [one, two],
      ack: refused('rate_limited'),
      expected: settlement({ retryAfterMs: 1_000 }),
    },
    {
      name: 'holds the whole batch for retryAfterMs when the store could not write it',
      entries: [one, two],
      ack: refused('internal', 2_000),
      expected: settlement({ retryAfterMs: 2_000 }),
    },
    {
      name: 'holds the whole batch 1000 ms on an internal error that names no wait',
      entries: [one, two],
      ack: refused('internal'),
      expected: settlement({ retryAfterMs: 1_000 }),
    },
    {
      name: 'treats a result whose id does not match its entry as unanswered',
      entries: [one, two],
      ack: results(accepted(two, 5), accepted(one, 6)),
      expected: settlement({}),
    },
    {
      name: 'treats entries beyond a short list of results as unanswered',
      entries: [one, two, three],
      ack: results(accepted(one, 5)),
      expected: settlement({ sent: [sent(one, 5, 50_005)], settledOutboxKeys: [1] }),
    },
    {
      name: 'leaves a message refused with a transient code (internal) in the outbox',
      entries: [one, two],
      ack: results(rejected(one, 'internal'), accepted(two, 5)),
      expected: settlement({ sent: [sent(two, 5, 50_005)], settledOutboxKeys: [2] }),
    },
  ];

  it.each(cases)('$name', ({ entries, ack, expected }) => {
    expect(settleAck(entries, ack, CONTEXT)).toEqual(expected);
  });

  it.each([...PERMANENT_MESSAGE_ERRORS])(
    'fails a message rejected for good (%s) alone, and takes it out of the outbox',
    (code) => {
      const ack = results(accepted(one, 4), rejected(two, code), accepted(three, 5));
      expect(settleAck([one, two, three], ack, CONTEXT)).toEqual(
        settlement({
          sent: [sent(one, 4, 50_004), sent(three, 5, 50_005)],
          failed: [failed(two, { code, reason: `no: ${code}` })],
          settledOutboxKeys: [1, 2, 3],
        }),
      );
    },
  );

  it.each<ErrorCode>(['forbidden', 'invalid_room', 'invalid_payload', 'batch_too_large'])(
    'fails every message of the batch on a whole-batch permanent error (%s)',
    (code) => {
      const error = { code, reason: `batch refused: ${code}` };
      expect(settleAck([one, two], refused(code), CONTEXT)).toEqual(
        settlement({ failed: [failed(one, error), failed(two, error)], settledOutboxKeys: [1, 2] }),
      );
    },
  );

  it('takes the author name and createdAt from the outbox entry, not from the session or now', () => {
    const settled = settleAck(
      [one, two],
      results(accepted(one, 4), rejected(two, 'body_empty')),
      CONTEXT,
    );
    expect(settled.sent[0]?.author).toBe('Ada on the train');
    expect(settled.failed[0]).toMatchObject({ author: 'Ada on the train', createdAt: 1_002 });
  });

  it('falls back to the session name and now for entries queued without them (author "", createdAt 0)', () => {
    const legacyOne = entry(1, { author: '', createdAt: 0 });
    const legacyTwo = entry(2, { author: '', createdAt: 0 });
    const settled = settleAck(
      [legacyOne, legacyTwo],
      results(accepted(legacyOne, 4), rejected(legacyTwo, 'id_conflict')),
      CONTEXT,
    );
    expect(settled.sent[0]).toMatchObject({ author: 'Ada', authorId: 'user-ada' });
    expect(settled.failed[0]).toMatchObject({
      author: 'Ada',
      authorId: 'user-ada',
      createdAt: NOW,
    });
  });
});

describe('settleOversize', () => {
  it('fails an entry no batch can carry as body_too_long, and takes it out of the outbox', () => {
    expect(settleOversize(three, CONTEXT)).toEqual(
      settlement({
        failed: [
          failed(three, { code: 'body_too_long', reason: 'the message is too long to send' }),
        ],
        settledOutboxKeys: [3],
      }),
    );
  });

  it('falls back to the session name and now for an entry queued without them', () => {
    const legacy = entry(3, { author: '', createdAt: 0 });
    expect(settleOversize(legacy, CONTEXT).failed[0]).toMatchObject({
      author: 'Ada',
      createdAt: NOW,
      order: 3,
    });
  });
});

describe('a settlement committed to the LocalStore (fake-indexeddb)', () => {
  it('leaves exactly the held and unanswered messages in the outbox, in their order', async () => {
    const store = await LocalStore.open(`ack-settlement-${process.pid}-${Date.now()}`);
    try {
      for (const n of [1, 2, 3, 4]) {
        await store.enqueue({
          id: `m${n}`,
          room: 'lobby',
          body: `body ${n}`,
          author: 'Ada',
          authorId: 'user-ada',
          createdAt: 1_000 + n,
        });
      }
      const queued = await store.readOutbox(0, 10);
      const [first, second, third, fourth] = queued as [
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
        OutboxEntry,
      ];
      const ack = results(
        accepted(first, 1),
        rejected(second, 'rate_limited', 900),
        rejected(third, 'body_empty'),
        { ...accepted(fourth, 2), id: 'someone-else' },
      );
      const settled = settleAck(queued, ack, CONTEXT);
      await store.commit(settled);

      expect(settled.retryAfterMs).toBe(900);
      expect((await store.readOutbox(0, 10)).map((left) => left.id)).toEqual(['m2', 'm4']);
      const { sent, local } = await store.loadWindow('lobby', 10);
      const status = Object.fromEntries(
        [...sent, ...local].map((message) => [message.id, message.status]),
      );
      expect(status).toEqual({ m1: 'sent', m2: 'pending', m3: 'failed', m4: 'pending' });
    } finally {
      store.close();
    }
  });
});
