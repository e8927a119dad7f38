import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PostOutcome } from '../../src/client/http-send.ts';
import { IdentityKeeper } from '../../src/client/identity-keeper.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import { syncOutbox } from '../../src/client/outbox-sync.ts';
import { NO_CHANNEL } from '../../src/client/profile-channel.ts';
import { SYSTEM_TIMERS } from '../../src/client/timers.ts';
import type { SendAck, SendBatch } from '../../src/shared/protocol.ts';
import { deviceName } from '../support/engine.ts';

const SESSION = { userId: 'u-alice', token: 'a'.repeat(43) };

/**
 * `syncOutbox`'s own decisions, over a real (fake-indexeddb) store and a scripted server:
 * `answer` makes the ack of each posted batch.
 */
async function outboxWith(bodies: string[], options: { session?: boolean } = {}) {
  const store = await LocalStore.open(deviceName('outbox-sync'));
  await store.setIdentity({
    name: 'alice',
    signupKey: 'k'.repeat(43),
    session: options.session === false ? null : SESSION,
  });
  for (const [i, body] of bodies.entries()) {
    await store.enqueue({
      id: `m${i}`,
      room: 'lobby',
      authorId: SESSION.userId,
      author: 'alice',
      body,
      createdAt: i,
    });
  }
  return store;
}

function run(store: LocalStore, answer: (batch: SendBatch) => SendAck, url = 'http://127.0.0.1:9') {
  const posted: SendBatch[] = [];
  const identity = new IdentityKeeper({
    store,
    url,
    identity: null,
    onChange: () => undefined,
    onStored: () => undefined,
    exclusive: (work) => work(),
  });
  const outcome = syncOutbox({
    store,
    identity,
    post: async (batch): Promise<PostOutcome> => {
      posted.push(batch);
      return { kind: 'ack', ack: answer(batch) };
    },
    channel: NO_CHANNEL,
    locks: null,
    lockName: 'unused',
    timers: SYSTEM_TIMERS,
    maxHoldWaitMs: 0,
  });
  return { outcome, posted };
}

const acceptAll = (batch: SendBatch): SendAck => ({
  ok: true,
  results: batch.messages.map((message, i) => ({
    id: message.id,
    status: 'accepted',
    seq: i + 1,
    ts: 1_000 + i,
  })),
});

describe('syncOutbox', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it('posts every batch from the head of the outbox, saying so, and empties it', async () => {
    const store = await outboxWith(['one', 'two', 'three']);
    const { outcome, posted } = run(store, acceptAll);
    expect(await outcome).toEqual({ kind: 'done', sent: 3, failed: 0 });
    expect(posted).toEqual([
      {
        room: 'lobby',
        head: true,
        messages: [
          { id: 'm0', body: 'one' },
          { id: 'm1', body: 'two' },
          { id: 'm2', body: 'three' },
        ],
      },
    ]);
    expect(await store.outboxCount()).toBe(0);
  });

  it('fails on the device a message no batch can carry, and sends the rest', async () => {
    const store = await outboxWith(['before', 'x'.repeat(50_000), 'after']);
    const { outcome, posted } = run(store, acceptAll);
    expect(await outcome).toEqual({ kind: 'done', sent: 2, failed: 1 });
    expect(
      posted.flatMap((batch) => batch.messages.map((m) => ('body' in m ? m.body : ''))),
    ).toEqual(['before', 'after']);
    const [oversize] = await store.getMessages(['m1']);
    expect(oversize).toMatchObject({ status: 'failed', error: { code: 'body_too_long' } });
  });

  it('fails a message the server refuses for good, with its reason, and sends the rest', async () => {
    const store = await outboxWith(['fine', 'refused', 'fine too']);
    const { outcome } = run(store, (batch) => {
      const accepted = acceptAll(batch);
      if (!accepted.ok) return accepted;
      return {
        ok: true,
        results: accepted.results.map((result) =>
          result.id === 'm1'
            ? { id: 'm1', status: 'rejected', code: 'id_conflict', reason: 'this id is taken' }
            : result,
        ),
      };
    });
    expect(await outcome).toEqual({ kind: 'done', sent: 2, failed: 1 });
    const [refused] = await store.getMessages(['m1']);
    expect(refused).toMatchObject({
      status: 'failed',
      error: { code: 'id_conflict', reason: 'this id is taken' },
    });
  });

  it('hands back for a retry when an ack settles none of the batch, instead of posting it forever', async () => {
    const store = await outboxWith(['one', 'two']);
    const { outcome, posted } = run(store, () => ({
      ok: true,
      results: [{ id: 'someone-else', status: 'accepted', seq: 1, ts: 1 }],
    }));
    expect(await outcome).toMatchObject({ kind: 'retry', sent: 0, failed: 0 });
    expect(posted).toHaveLength(1);
    expect(await store.outboxCount()).toBe(2);
  });

  it('stops for good, sending nothing, when the server refuses the sign-up', async () => {
    const refusing = createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: { code: 'invalid_payload', message: 'no' } }));
    });
    servers.push(refusing);
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as AddressInfo;
    const store = await outboxWith(['typed before any sign-up'], { session: false });
    const { outcome, posted } = run(store, acceptAll, `http://127.0.0.1:${port}`);
    expect(await outcome).toMatchObject({ kind: 'stuck', sent: 0, failed: 0 });
    expect(posted).toEqual([]);
    expect(await store.outboxCount()).toBe(1);
  });
});
