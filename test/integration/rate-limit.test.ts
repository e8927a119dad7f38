import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { RateLimit } from '../../src/server/token-bucket.ts';
import { MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import {
  type RawSendAck,
  type RawSocket,
  rawClient,
  sendBatch,
  signUp,
} from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir, withAfterAppend } from '../support/server.ts';

describe('per-user rate limit', () => {
  const cleanups = cleanupsAfterEach();

  it('holds a burst past the limit back and delivers all of it, in order, once each, as the bucket refills', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const batchSizes: number[] = [];
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { messageRate: { capacity: 10, refillPerMinute: 1_200 } },
      wrapStore: (store) => {
        const counted = withAfterAppend(store, () => {});
        return {
          ...counted,
          appendBatch: (room, author, items, now) => {
            batchSizes.push(items.length);
            return counted.appendBatch(room, author, items, now);
          },
        };
      },
    });
    cleanups.push(() => server.stop());
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());
    const typed = Array.from({ length: 60 }, (_, i) => `burst ${i}`);
    for (const body of typed) await alice.engine.send('lobby', body);

    alice.connectivity.set(true);
    await waitFor('the burst to drain', () => alice.engine.outboxCount === 0, 20_000);

    // The first batch got the whole bucket; everything after it came in refills of at most
    // a bucket, each after a pause of at least MIN_RATE_LIMIT_WAIT_MS: 50 held messages at
    // 20 a second are a couple of seconds of pauses, not a storm of refused batches.
    expect(batchSizes[0]).toBe(10);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(10);
    expect(alice.engine.diagnostics.batchesRefused).toBeLessThanOrEqual(10);
    const stored = await server.store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(typed);
    const view = alice.engine.room('lobby').messages;
    expect(duplicateIds(view)).toEqual([]);
    expect(view.every((m) => m.status === 'sent')).toBe(true);
  });
});

/** Messages with fresh ids, bodies `${label} 0`, `${label} 1`, ... */
function messages(label: string, count: number): { id: string; body: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: newMessageId(), body: `${label} ${i}` }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every `retryAfterMs` a send ack carries, batch-level and per message. */
function retryHints(ack: RawSendAck): number[] {
  const perMessage = (ack.results ?? []).flatMap((r) =>
    r.code === 'rate_limited' ? [r.retryAfterMs ?? -1] : [],
  );
  return ack.error?.code === 'rate_limited' ? [ack.error.retryAfterMs ?? -1] : perMessage;
}

describe('the rate gate, seen from a raw socket', () => {
  const cleanups = cleanupsAfterEach();

  async function serverWith(messageRate: RateLimit): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { messageRate },
    });
    cleanups.push(() => server.stop());
    return server;
  }

  async function socketOf(server: TestServer, token: string): Promise<RawSocket> {
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    return socket;
  }

  it('answers the already-stored part of a resent burst as duplicates and holds only the new messages', async () => {
    const server = await serverWith({ capacity: 10, refillPerMinute: 60 });
    const { token } = await signUp(server.url, 'alice');
    const burst = messages('burst', 10);
    const typedLater = messages('later', 5);
    const first = await sendBatch(await socketOf(server, token), 'lobby', burst);
    expect(first.results?.map((r) => r.status)).toEqual(Array(10).fill('accepted'));

    // The ack was lost with the connection: after reconnecting, the client resends all of
    // it, followed by what was typed since, and the bucket is empty.
    const socket = await socketOf(server, token);
    const resend = await sendBatch(socket, 'lobby', [...burst, ...typedLater]);
    expect(resend.results?.slice(0, 10)).toEqual(
      first.results?.map((r) => ({ ...r, status: 'duplicate' })),
    );
    const held = resend.results?.slice(10) ?? [];
    expect(held.map((r) => r.code)).toEqual(Array(5).fill('rate_limited'));

    // The hold is on the first new message: once the wait is over, a batch starting with it
    // passes, even though the client has settled the duplicates and never resends them.
    await sleep(Math.max(...retryHints(resend)));
    const next = await sendBatch(socket, 'lobby', typedLater.slice(0, 1));
    expect(next.results).toMatchObject([{ status: 'accepted', seq: 11 }]);
  });

  it("lifts a hold on a batch that starts at the head of the client's outbox, once another tab stored the held message", async () => {
    const server = await serverWith({ capacity: 10, refillPerMinute: 600 });
    const { token } = await signUp(server.url, 'alice');
    const tabA = await socketOf(server, token);
    const tabB = await socketOf(server, token);
    const [held, afterHeld] = messages('held', 2) as [Msg, Msg];
    const cut = await sendBatch(tabA, 'lobby', [...messages('burst', 10), held, afterHeld]);
    expect(cut.results?.slice(10).map((r) => r.code)).toEqual(['rate_limited', 'rate_limited']);

    // The other tab flushes the same outbox and stores the held messages (in order).
    let pending: Msg[] = [held, afterHeld];
    while (pending.length > 0) {
      await sleep(Math.max(MIN_RETRY_AFTER_MS, ...retryHints(cut)));
      const ack = await sendBatch(tabB, 'lobby', pending, { head: true });
      const stored = (ack.results ?? []).filter((r) => r.status !== 'rejected').length;
      pending = pending.slice(stored);
    }

    // Tab A never resends the held message: the other tab settled it, so tab A's head has
    // moved past it. Its next batch starts at that head, and says so: it must be stored.
    await sleep(MIN_RETRY_AFTER_MS);
    const next = await sendBatch(tabA, 'lobby', messages('next', 1), { head: true });
    expect(next.results).toMatchObject([{ status: 'accepted', seq: 13 }]);
  });

  it('keeps refusing a late batch after another tab stored the held message but not the ones behind it', async () => {
    const server = await serverWith({ capacity: 10, refillPerMinute: 600 });
    const { token } = await signUp(server.url, 'alice');
    const tabA = await socketOf(server, token);
    const tabB = await socketOf(server, token);
    const burst = messages('burst', 10);
    const [h1, h2, h3, h4] = messages('tail', 4) as [Msg, Msg, Msg, Msg];
    // Tab A: the burst takes the bucket, h1 is held on A's socket.
    const cut = await sendBatch(tabA, 'lobby', [...burst, h1, h2, h3]);
    expect(cut.results?.slice(10).map((r) => r.code)).toEqual(Array(3).fill('rate_limited'));
    // Tab B, one token later: h1 is stored, h2 held on B's socket.
    await sleep(150);
    const partial = await sendBatch(tabB, 'lobby', [h1, h2, h3], { head: true });
    expect(partial.results?.map((r) => r.status)).toEqual(['accepted', 'rejected', 'rejected']);
    // Tab A's batch emitted before it saw its refusal arrives after the wait, with tokens
    // to spare: storing it would put h4 ahead of h2 and h3.
    await sleep(Math.max(...retryHints(cut)) + 300);
    const late = await sendBatch(tabA, 'lobby', [h4]);
    expect(late).toMatchObject({ ok: false, error: { code: 'rate_limited' } });

    const resent = await sendBatch(tabA, 'lobby', [h2, h3, h4], { head: true });
    expect(resent.results?.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const stored = await server.store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(bodies([...burst, h1, h2, h3, h4]));
  });

  it('keeps refusing a batch from behind the cut after the wait, until the held message comes first', async () => {
    const server = await serverWith({ capacity: 10, refillPerMinute: 600 });
    const { token } = await signUp(server.url, 'alice');
    const socket = await socketOf(server, token);
    const burst = messages('burst', 10);
    const [held, behind] = messages('tail', 2) as [Msg, Msg];
    const cut = await sendBatch(socket, 'lobby', [...burst, held]);
    await sleep(Math.max(...retryHints(cut)) + 100);

    // A batch emitted before the client saw the refusal, arriving late on a slow uplink:
    // storing it now would put it ahead of the held message.
    const late = await sendBatch(socket, 'lobby', [behind]);
    expect(late).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(late.error?.retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);

    await sleep(late.error?.retryAfterMs ?? 0);
    const resent = await sendBatch(socket, 'lobby', [held, behind]);
    expect(resent.results?.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const stored = await server.store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(bodies([...burst, held, behind]));
  });

  it('never answers rate_limited with a retryAfterMs below MIN_RETRY_AFTER_MS', async () => {
    // 100 tokens a second: the bucket alone would ask for waits of a few milliseconds.
    const server = await serverWith({ capacity: 2, refillPerMinute: 6_000 });
    const { token } = await signUp(server.url, 'alice');
    const socket = await socketOf(server, token);
    let outbox = messages('flood', 40);
    const hints: number[] = [];
    for (let round = 0; round < 30 && outbox.length > 0; round++) {
      const ack = await sendBatch(socket, 'lobby', outbox.slice(0, 5));
      hints.push(...retryHints(ack));
      const stored = (ack.results ?? []).filter((r) => r.status !== 'rejected').length;
      outbox = outbox.slice(stored);
      await sleep(round % 3 === 0 ? 0 : 30);
    }
    expect(hints.length).toBeGreaterThan(0);
    expect(Math.min(...hints)).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
  });

  it('caps retryAfterMs at a minute, however slow the refill', async () => {
    const server = await serverWith({ capacity: 100, refillPerMinute: 1 });
    const { token } = await signUp(server.url, 'alice');
    const socket = await socketOf(server, token);
    await sendBatch(socket, 'lobby', messages('all of the burst', 100));
    const refused = await sendBatch(socket, 'lobby', messages('over', 50));
    expect(Math.max(...retryHints(refused))).toBe(60_000);
  });

  it('drops a socket whose hold can never be met, instead of refusing it forever', async () => {
    const server = await serverWith({ capacity: 1, refillPerMinute: 6_000 });
    const { token } = await signUp(server.url, 'alice');
    const socket = await socketOf(server, token);
    const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const cut = await sendBatch(socket, 'lobby', messages('cut', 2));
    await sleep(Math.max(MIN_RETRY_AFTER_MS, ...retryHints(cut)) + 100);

    // The client's head moved on without the held message ever being stored. Far more
    // batches than any client has in flight (Ferry's has 10) arrive after the wait.
    for (let i = 0; i < 50 && socket.connected; i++) {
      await sendBatch(socket, 'lobby', messages(`stale ${i}`, 1)).catch(() => undefined);
    }
    const gaveUp = sleep(5_000).then(() => 'still connected after 50 stale batches');
    expect(await Promise.race([dropped, gaveUp])).toBe('io server disconnect');
  });
});

type Msg = { id: string; body: string };
