// The flush loop on its own: an in-memory outbox, a fake link that records every request
// and answers when told, the real settleAck behind `settle`, and fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settleAck } from '../../src/client/ack-settlement.ts';
import { type BatchPlan, wireBytes } from '../../src/client/batch-plan.ts';
import {
  FAST_ACK_MS,
  Flusher,
  type FlusherOptions,
  type FlushPort,
  INITIAL_WINDOW_BYTES,
  MAX_RATE_LIMIT_WAIT_MS,
  MAX_WINDOW_BATCHES,
  MIN_BATCH_BYTES,
  MIN_RATE_LIMIT_WAIT_MS,
  type OutboxReader,
  SETTLE_RETRY_MS,
  SLOW_ACK_MS,
} from '../../src/client/flusher.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import type { OutboxEntry } from '../../src/client/types.ts';
import type { SendAck, SendBatch } from '../../src/shared/protocol.ts';

const CONTEXT = { author: { id: 'user-ada', name: 'Ada' }, now: 0 };

/** An entry whose message takes exactly `bytes` on the wire. */
function entryOf(key: number, room: string, bytes = 100): OutboxEntry {
  const id = `m${key}`;
  const body = 'x'.repeat(bytes - wireBytes({ id, body: '' }));
  return { key, id, room, body, author: 'Ada', createdAt: key };
}

/** `count` entries of `bytes` each, alternating between two rooms: one entry per batch. */
function alternating(count: number, bytes = 100): OutboxEntry[] {
  return Array.from({ length: count }, (_, i) =>
    entryOf(i + 1, i % 2 ? 'kitchen' : 'lobby', bytes),
  );
}

class MemoryOutbox implements OutboxReader {
  entries: OutboxEntry[];

  constructor(entries: OutboxEntry[]) {
    this.entries = entries;
  }

  async claimBatch(
    afterKey: number,
    limit: number,
    plan: (candidates: OutboxEntry[]) => BatchPlan,
  ): Promise<BatchPlan> {
    return plan(this.entries.filter((entry) => entry.key > afterKey).slice(0, limit));
  }

  remove(keys: readonly number[]): void {
    this.entries = this.entries.filter((entry) => !keys.includes(entry.key));
  }
}

interface Request {
  batch: SendBatch;
  ids: string[];
  /** When it went out (fake time). */
  at: number;
  answered: boolean;
  answer(ack: SendAck): void;
  fail(): void;
}

function acceptAll(batch: SendBatch): SendAck {
  return {
    ok: true,
    results: batch.messages.map(({ id }, i) => ({ id, status: 'accepted', seq: i + 1, ts: 1 })),
  };
}

function refused(retryAfterMs?: number): SendAck {
  return { ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterMs } };
}

function refusedPerMessage(batch: SendBatch, retryAfterMs?: number): SendAck {
  return {
    ok: true,
    results: batch.messages.map(({ id }) => ({
      id,
      status: 'rejected',
      code: 'rate_limited',
      reason: 'slow down',
      retryAfterMs,
    })),
  };
}

/**
 * The wire and the device as the flusher sees them. Requests wait for `answer`/`fail`
 * unless `autoAnswer` is set; `settle` runs the real settleAck over the in-memory outbox.
 */
class FakeLink implements FlushPort {
  connected = true;
  readonly requests: Request[] = [];
  autoAnswer: ((batch: SendBatch) => SendAck) | null = null;
  /** How long an automatic answer takes to come back. */
  roundTripMs = 0;
  /** How many of the next settles throw, as a closed database does. */
  settleFailures = 0;
  readonly settled: string[][] = [];
  readonly recycle = vi.fn<() => void>();
  readonly failOversize = vi.fn(async (entry: OutboxEntry) => this.outbox.remove([entry.key]));
  readonly outbox: MemoryOutbox;

  constructor(outbox: MemoryOutbox) {
    this.outbox = outbox;
  }

  isConnected(): boolean {
    return this.connected;
  }

  send(batch: SendBatch): Promise<SendAck> {
    const ids = batch.messages.map((m) => m.id);
    const at = Date.now();
    const answer = this.autoAnswer;
    if (answer) {
      this.requests.push({ batch, ids, at, answered: true, answer: () => {}, fail: () => {} });
      if (this.roundTripMs === 0) return Promise.resolve(answer(batch));
      return new Promise((resolve) => setTimeout(() => resolve(answer(batch)), this.roundTripMs));
    }
    return new Promise((resolve, reject) => {
      const request: Request = {
        batch,
        ids,
        at,
        answered: false,
        answer: (ack) => {
          request.answered = true;
          resolve(ack);
        },
        fail: () => {
          request.answered = true;
          reject(new Error('no answer: the link went silent'));
        },
      };
      this.requests.push(request);
    });
  }

  async settle(entries: readonly OutboxEntry[], ack: SendAck) {
    if (this.settleFailures > 0) {
      this.settleFailures -= 1;
      throw new Error('the database connection is closing');
    }
    const settlement = settleAck(entries, ack, CONTEXT);
    this.settled.push(entries.map((entry) => entry.id));
    this.outbox.remove(settlement.settledOutboxKeys);
    return { retryAfterMs: settlement.retryAfterMs };
  }

  /** Requests still waiting for their answer. */
  get inFlight(): Request[] {
    return this.requests.filter((request) => !request.answered);
  }

  /** The ids of each request, in the order they went out. */
  get sent(): string[][] {
    return this.requests.map((request) => request.ids);
  }
}

/** Lets every promise chain that waits on no timer run to its end (setImmediate is real). */
function idle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await idle();
}

function start(entries: OutboxEntry[], options: FlusherOptions = {}) {
  const outbox = new MemoryOutbox(entries);
  const link = new FakeLink(outbox);
  const flusher = new Flusher(outbox, link, options);
  flusher.wake();
  return { outbox, link, flusher };
}

async function answerAll(link: FakeLink, answer: (batch: SendBatch) => SendAck = acceptAll) {
  for (const request of link.inFlight) request.answer(answer(request.batch));
  await idle();
}

describe('Flusher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('order and window', () => {
    it('sends the outbox in order, one batch per run of consecutive entries of one room', async () => {
      const { link } = start([
        entryOf(1, 'lobby'),
        entryOf(2, 'lobby'),
        entryOf(3, 'kitchen'),
        entryOf(4, 'lobby'),
      ]);
      await idle();
      expect(link.sent).toEqual([['m1', 'm2'], ['m3'], ['m4']]);
      expect(link.requests.map((r) => r.batch.room)).toEqual(['lobby', 'kitchen', 'lobby']);
    });

    it('sends nothing while the link is down, and starts from the head when woken on a link', async () => {
      const outbox = new MemoryOutbox(alternating(3));
      const link = new FakeLink(outbox);
      link.connected = false;
      const flusher = new Flusher(outbox, link);
      flusher.wake();
      await idle();
      expect(link.requests).toHaveLength(0);
      link.connected = true;
      flusher.wake();
      await idle();
      expect(link.sent).toEqual([['m1'], ['m2'], ['m3']]);
    });

    it.each([
      { limit: MAX_WINDOW_BATCHES, options: {} },
      { limit: 3, options: { maxWindowBatches: 3 } },
    ])('never has more than $limit batches in flight', async ({ limit, options }) => {
      const { link } = start(alternating(30), options);
      await idle();
      expect(link.inFlight).toHaveLength(limit);
      link.inFlight[0]?.answer(acceptAll(link.inFlight[0].batch));
      await idle();
      expect(link.inFlight).toHaveLength(limit);
      expect(link.requests).toHaveLength(limit + 1);
    });

    it('starts a window at INITIAL_WINDOW_BYTES: no batch goes out that would cross it', async () => {
      const { link } = start(alternating(30, 10_240), { maxWindowBatches: 100 });
      await idle();
      // 6 × 10,240 = 61,440 fits in 65,536 bytes; a seventh would not.
      expect(link.inFlight).toHaveLength(Math.floor(INITIAL_WINDOW_BYTES / 10_240));
    });

    it('lets the first batch of a window exceed the byte window, and sends nothing beside it', async () => {
      const big = entryOf(1, 'lobby', 2 * INITIAL_WINDOW_BYTES);
      const { link } = start([big, entryOf(2, 'kitchen')], {
        caps: { maxMessages: 100, maxBytes: 4 * INITIAL_WINDOW_BYTES },
      });
      await idle();
      expect(link.sent).toEqual([['m1']]);
      await answerAll(link);
      expect(link.sent).toEqual([['m1'], ['m2']]);
    });

    // Batches of a quarter window each: four fill the first window. One ack later the window
    // has grown by the bytes acked (five fit), stayed (four fit) or halved (the three
    // still in flight already fill it, so nothing goes out).
    const QUARTER = INITIAL_WINDOW_BYTES / 4;
    it.each<[string, number, number]>([
      ['grows by the bytes acked', 100, 5],
      ['grows by the bytes acked', FAST_ACK_MS - 1, 5],
      ['stays', FAST_ACK_MS, 4],
      ['stays', 1_000, 4],
      ['stays', SLOW_ACK_MS, 4],
      ['halves', SLOW_ACK_MS + 1, 3],
    ])(
      'the byte window %s on an ack that took %i ms (%i batches in flight after it)',
      async (_change, ackMs, inFlight) => {
        const { link } = start(alternating(40, QUARTER), { maxWindowBatches: 100 });
        await idle();
        expect(link.inFlight).toHaveLength(4);
        await advance(ackMs);
        link.inFlight[0]?.answer(acceptAll(link.inFlight[0].batch));
        await idle();
        expect(link.inFlight).toHaveLength(inFlight);
      },
    );

    it('doubles the byte window over one round trip of fast acks, as slow start does', async () => {
      const { link } = start(alternating(40, QUARTER), { maxWindowBatches: 100 });
      await idle();
      await advance(FAST_ACK_MS - 1);
      await answerAll(link);
      expect(link.inFlight).toHaveLength(8);
    });

    it('stops halving the byte window at 2 × MIN_BATCH_BYTES on a link that stays slow', async () => {
      const { link } = start(alternating(60, MIN_BATCH_BYTES), { maxWindowBatches: 100 });
      await idle();
      for (let round = 0; round < 6; round++) {
        await advance(SLOW_ACK_MS + 1);
        await answerAll(link);
      }
      expect(link.inFlight).toHaveLength(2);
    });
  });

  describe('reset', () => {
    it('sends again from the head of the outbox after reset(), as after a reconnect', async () => {
      const { link, flusher } = start(alternating(3));
      await idle();
      expect(link.sent).toEqual([['m1'], ['m2'], ['m3']]);
      flusher.reset();
      flusher.wake();
      await idle();
      expect(link.sent.slice(3)).toEqual([['m1'], ['m2'], ['m3']]);
    });

    it('records an ack that arrives after a reset, without counting it against the new window', async () => {
      const { link, flusher } = start(alternating(12), { maxWindowBatches: 2 });
      await idle();
      const [first] = link.inFlight as [Request];
      flusher.reset();
      flusher.wake();
      await idle();
      expect(link.requests).toHaveLength(4);
      first.answer(acceptAll(first.batch));
      await idle();
      expect(link.settled).toEqual([['m1']]);
      // Its slot belonged to the old window: the new one still has two unanswered batches.
      expect(link.requests).toHaveLength(4);
    });
  });

  describe('rate limits', () => {
    it.each<[number, string, (batch: SendBatch) => SendAck]>([
      [MIN_RATE_LIMIT_WAIT_MS, 'the whole batch waits 0 ms', () => refused(0)],
      [3_000, 'the whole batch waits 3000 ms', () => refused(3_000)],
      [3_000, 'each message waits 3000 ms', (batch) => refusedPerMessage(batch, 3_000)],
      [
        MAX_RATE_LIMIT_WAIT_MS,
        'the whole batch waits Number.MAX_SAFE_INTEGER ms',
        () => refused(Number.MAX_SAFE_INTEGER),
      ],
    ])(
      'waits %i ms, then resends from the head, when the server says %s',
      async (waits, _says, ack) => {
        const { link, flusher } = start([entryOf(1, 'lobby'), entryOf(2, 'lobby')]);
        await idle();
        await answerAll(link, ack);
        await advance(waits - 1);
        expect(link.requests).toHaveLength(1);
        await advance(1);
        expect(link.sent).toEqual([
          ['m1', 'm2'],
          ['m1', 'm2'],
        ]);
        expect(flusher.stats.batchesRefused).toBe(1);
      },
    );

    // The floor is per batch: after each hold the window refills, so a link that refuses
    // everything draws at most a window of requests per MIN_RATE_LIMIT_WAIT_MS.
    it.each([0, 30])(
      'never resends a batch sooner than MIN_RATE_LIMIT_WAIT_MS to a link that refuses everything at 0 ms (round trip %i ms)',
      async (roundTripMs) => {
        const { link, flusher } = start(alternating(50));
        link.autoAnswer = () => refused(0);
        link.roundTripMs = roundTripMs;
        flusher.wake();
        const elapsedMs = 10_000;
        await advance(elapsedMs);

        const sentAt = new Map<string, number[]>();
        for (const request of link.requests) {
          const key = request.ids.join();
          sentAt.set(key, [...(sentAt.get(key) ?? []), request.at]);
        }
        for (const times of sentAt.values()) {
          for (let i = 1; i < times.length; i++) {
            expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(
              MIN_RATE_LIMIT_WAIT_MS,
            );
          }
        }
        const holds = Math.floor(elapsedMs / MIN_RATE_LIMIT_WAIT_MS) + 1;
        expect(link.requests.length).toBeLessThanOrEqual(holds * MAX_WINDOW_BATCHES);
        expect(flusher.stats.batchesRefused).toBeLessThanOrEqual(link.requests.length);
      },
    );
  });

  describe('local failures', () => {
    it('frees the window when a settle throws (closed database) and tries again after SETTLE_RETRY_MS', async () => {
      const { link, outbox } = start(alternating(2), { maxWindowBatches: 1 });
      link.settleFailures = 1;
      await idle();
      await answerAll(link);
      await advance(SETTLE_RETRY_MS - 1);
      expect(link.sent).toEqual([['m1']]);
      await advance(1);
      expect(link.sent).toEqual([['m1'], ['m1']]);
      await answerAll(link);
      await answerAll(link);
      expect(outbox.entries).toEqual([]);
    });

    it('is not stalled by ten failed settles in a row', async () => {
      const { link, outbox, flusher } = start(alternating(3), { maxWindowBatches: 1 });
      link.settleFailures = 10;
      link.autoAnswer = acceptAll;
      flusher.wake();
      await advance(10 * SETTLE_RETRY_MS + 100);
      expect(outbox.entries).toEqual([]);
      expect(link.settleFailures).toBe(0);
    });

    it('passes an oversize entry to failOversize and still sends the entries behind it', async () => {
      const huge = entryOf(2, 'lobby', 50 * 1024);
      const { link } = start([entryOf(1, 'lobby'), huge, entryOf(3, 'lobby')]);
      await idle();
      expect(link.failOversize).toHaveBeenCalledExactlyOnceWith(huge);
      expect(link.sent).toEqual([['m1'], ['m3']]);
    });
  });

  describe('broken links', () => {
    it('asks once for a new link when a send is rejected on a link that claims to be up', async () => {
      const { link } = start(alternating(1));
      await idle();
      link.inFlight[0]?.fail();
      await idle();
      expect(link.recycle).toHaveBeenCalledTimes(1);
    });

    it('does not ask for a new link when the send was rejected because the link dropped', async () => {
      const { link, flusher } = start(alternating(3));
      await idle();
      link.connected = false;
      flusher.reset();
      for (const request of link.inFlight) request.fail();
      await idle();
      expect(link.recycle).not.toHaveBeenCalled();
    });

    it('asks once for a new link when every batch in flight is rejected with it', async () => {
      const { link, flusher } = start(alternating(3));
      // As the engine does: a recycle drops the link, and a dropped link resets the flusher.
      link.recycle.mockImplementation(() => {
        link.connected = false;
        flusher.reset();
      });
      await idle();
      for (const request of link.inFlight) request.fail();
      await idle();
      expect(link.recycle).toHaveBeenCalledTimes(1);
    });
  });

  describe('a server that cannot store', () => {
    const storeFailed = (retryAfterMs?: number): SendAck => ({
      ok: false,
      error: { code: 'internal', message: 'the database is locked', retryAfterMs },
    });

    it('keeps the link, waits retryAfterMs, then probes with one batch from the head', async () => {
      const { link, outbox } = start(alternating(3));
      await idle();
      await answerAll(link, () => storeFailed(2_000));
      expect(outbox.entries).toHaveLength(3);
      await advance(1_999);
      expect(link.requests).toHaveLength(3);
      await advance(1);
      expect(link.recycle).not.toHaveBeenCalled();
      expect(link.inFlight.map((request) => [request.ids, request.batch.head])).toEqual([
        [['m1'], true],
      ]);
    });

    it('backs off without a new link when an internal error carries no hint', async () => {
      const { link } = start(alternating(1));
      await idle();
      await answerAll(link, () => storeFailed());
      await advance(MIN_RATE_LIMIT_WAIT_MS - 1);
      expect(link.requests).toHaveLength(1);
      await advance(MAX_RATE_LIMIT_WAIT_MS);
      expect(link.recycle).not.toHaveBeenCalled();
      expect(link.requests).toHaveLength(2);
    });
  });

  describe('stop and stats', () => {
    it('sends nothing after stop(), neither when woken nor when a rate-limit pause ends', async () => {
      const { link, flusher } = start(alternating(3));
      await idle();
      await answerAll(link, () => refused(1_000));
      expect(link.requests).toHaveLength(3);
      flusher.stop();
      flusher.wake();
      await advance(MAX_RATE_LIMIT_WAIT_MS);
      expect(link.requests).toHaveLength(3);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('leaves no timer behind when an ack in flight at stop() asks for a pause', async () => {
      const { link, flusher } = start(alternating(1));
      await idle();
      flusher.stop();
      await answerAll(link, () => refused(1_000));
      expect(vi.getTimerCount()).toBe(0);
    });

    it('sends again from the head of the outbox after start(), even if stopped mid-pause', async () => {
      const { link, flusher } = start(alternating(2));
      await idle();
      // Paused by the server, then stopped (another tab took over) before the pause ended.
      await answerAll(link, () => refused(1_000));
      flusher.stop();
      flusher.start();
      await idle();
      expect(link.sent).toHaveLength(3);
      expect(link.sent[2]).toEqual(link.sent[0]);
    });

    it('counts batches sent and batches refused, wholly or in part', async () => {
      const { link, flusher } = start(alternating(2));
      await idle();
      const [first, second] = link.inFlight as [Request, Request];
      first.answer(refusedPerMessage(first.batch, 0));
      second.answer(refused(0));
      await idle();
      expect(flusher.stats).toEqual({ batchesSent: 2, batchesRefused: 2 });
      await advance(MIN_RATE_LIMIT_WAIT_MS);
      await answerAll(link);
      expect(flusher.stats).toEqual({ batchesSent: 4, batchesRefused: 2 });
    });
  });
});

describe('Flusher over a real LocalStore (fake-indexeddb)', () => {
  it('sends the stored outbox in the order it was typed and empties it as acks are recorded', async () => {
    const store = await LocalStore.open(`flusher-${process.pid}-${Date.now()}`);
    try {
      const typed = ['lobby', 'lobby', 'kitchen', 'lobby', 'lobby', 'kitchen'];
      for (const [i, room] of typed.entries()) {
        await store.enqueue({
          id: `m${i + 1}`,
          room,
          body: `hello ${i + 1}`,
          author: 'Ada',
          authorId: 'user-ada',
          createdAt: i,
        });
      }
      const sent: string[][] = [];
      const port: FlushPort = {
        isConnected: () => true,
        send: async (batch) => {
          sent.push(batch.messages.map((m) => m.id));
          return acceptAll(batch);
        },
        settle: async (entries, ack) => {
          const settlement = settleAck(entries, ack, CONTEXT);
          await store.commit(settlement);
          return { retryAfterMs: settlement.retryAfterMs };
        },
        failOversize: async () => {},
        recycle: () => {},
      };
      const flusher = new Flusher(store, port);
      flusher.wake();
      await vi.waitFor(async () => expect(await store.outboxCount()).toBe(0));
      expect(sent).toEqual([['m1', 'm2'], ['m3'], ['m4', 'm5'], ['m6']]);
      flusher.stop();
    } finally {
      store.close();
    }
  });
});
