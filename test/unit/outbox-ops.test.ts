import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { planBatch } from '../../src/client/batch-plan.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import type { FailedMessage, PendingMessage } from '../../src/client/types.ts';

const uuid = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
let opened: LocalStore[] = [];
let nextDb = 0;

async function store(): Promise<LocalStore> {
  const local = await LocalStore.open(`outbox-ops-${process.pid}-${nextDb++}`);
  opened.push(local);
  return local;
}

afterEach(() => {
  for (const local of opened) local.close();
  opened = [];
});

function typed(local: LocalStore, n: number, body: string): Promise<PendingMessage> {
  return local.enqueue({ id: uuid(n), room: 'r', authorId: 'u', author: 'u', body, createdAt: n });
}

const origin = (n: number) => ({ id: uuid(n), author: 'u', createdAt: n });

/** What a sender takes off the outbox in one batch: claimed, as the flusher does. */
function claimAll(local: LocalStore) {
  return local.claimBatch(0, 100, (candidates) =>
    planBatch(candidates, { maxMessages: 100, maxBytes: 40_000 }),
  );
}

describe('edits and deletes in the outbox', () => {
  it('rewrites a pending message that never left the device in place: one entry, the new body', async () => {
    const local = await store();
    await typed(local, 1, 'helo');
    const changed = await local.queueEdit(uuid(1), 'hello', origin(2));
    expect(changed).toMatchObject({ status: 'pending', body: 'hello' });
    expect(changed?.pendingOp).toBeUndefined();
    const outbox = await local.readOutbox(0, 10);
    expect(outbox.map(({ id, body, op }) => ({ id, body, op }))).toEqual([
      { id: uuid(1), body: 'hello', op: undefined },
    ]);
  });

  it('takes back a pending message that never left the device: nothing is left to send', async () => {
    const local = await store();
    await typed(local, 1, 'oops');
    await typed(local, 2, 'kept');
    expect(await local.queueDelete(uuid(1), origin(3))).toBeUndefined();
    expect((await local.readOutbox(0, 10)).map((entry) => entry.body)).toEqual(['kept']);
    expect(await local.getMessages([uuid(1)])).toEqual([undefined]);
  });

  it('queues an edit behind a pending message that may be on its way, and shows it', async () => {
    const local = await store();
    await typed(local, 1, 'helo');
    await claimAll(local);
    const changed = await local.queueEdit(uuid(1), 'hello', origin(2));
    expect(changed).toMatchObject({
      body: 'helo',
      pendingOp: { kind: 'edit', id: uuid(2), body: 'hello' },
    });
    const outbox = await local.readOutbox(0, 10);
    expect(outbox.map(({ id, body, op }) => ({ id, body, op }))).toEqual([
      { id: uuid(1), body: 'helo', op: undefined },
      { id: uuid(2), body: 'hello', op: { kind: 'edit', target: uuid(1) } },
    ]);
    expect(changed?.pendingOp?.key).toBe(outbox[1]?.key);
  });

  it('puts a failed message back in the outbox with the new text, at the end, when it is edited', async () => {
    const local = await store();
    await typed(local, 1, 'x'.repeat(10));
    await typed(local, 2, 'after');
    await local.commit({
      failed: [
        {
          ...(await local.getMessages([uuid(1)]))[0],
          status: 'failed',
          order: 1,
          createdAt: 1,
          error: { code: 'body_too_long', reason: 'too long' },
        } as FailedMessage,
      ],
      settledOutboxKeys: [1],
    });
    const changed = await local.queueEdit(uuid(1), 'shorter', origin(3));
    expect(changed).toMatchObject({ id: uuid(1), status: 'pending', body: 'shorter' });
    expect(changed).not.toHaveProperty('error');
    expect((await local.readOutbox(0, 10)).map((entry) => [entry.id, entry.body])).toEqual([
      [uuid(2), 'after'],
      [uuid(1), 'shorter'],
    ]);
  });

  it('edits a message another tab retried a moment ago as the pending message it now is, never queuing its id twice', async () => {
    const local = await store();
    await typed(local, 1, 'retried elsewhere');
    // This tab still shows it failed; in the store it is pending again, never claimed.
    const changed = await local.queueEdit(uuid(1), 'edited', origin(2));
    expect(changed).toMatchObject({ status: 'pending', body: 'edited' });
    expect((await local.readOutbox(0, 10)).map((entry) => entry.id)).toEqual([uuid(1)]);
  });

  it('queues a delete behind a pending message that may be on its way', async () => {
    const local = await store();
    await typed(local, 1, 'oops');
    await claimAll(local);
    const changed = await local.queueDelete(uuid(1), origin(2));
    expect(changed?.pendingOp).toMatchObject({ kind: 'delete', id: uuid(2) });
    expect((await local.readOutbox(0, 10)).map((entry) => entry.op)).toEqual([
      undefined,
      { kind: 'delete', target: uuid(1) },
    ]);
  });

  it('folds a second edit into the first while that one waits unsent', async () => {
    const local = await store();
    await typed(local, 1, 'one');
    await claimAll(local);
    await local.queueEdit(uuid(1), 'two', origin(2));
    const changed = await local.queueEdit(uuid(1), 'three', origin(3));
    expect(changed?.pendingOp).toMatchObject({ id: uuid(2), body: 'three' });
    expect((await local.readOutbox(0, 10)).map((entry) => entry.body)).toEqual(['one', 'three']);
  });

  it('turns an edit that waits unsent into the delete, so its body never leaves the device', async () => {
    const local = await store();
    await typed(local, 1, 'one');
    await claimAll(local);
    await local.queueEdit(uuid(1), 'a body I regret', origin(2));
    const changed = await local.queueDelete(uuid(1), origin(3));
    expect(changed?.pendingOp).toMatchObject({ kind: 'delete', id: uuid(2) });
    const outbox = await local.readOutbox(0, 10);
    expect(outbox.map(({ body, op }) => ({ body, op }))).toEqual([
      { body: 'one', op: undefined },
      { body: '', op: { kind: 'delete', target: uuid(1) } },
    ]);
  });

  it('queues a second edit apart once the first may be on its way, so they go out in order', async () => {
    const local = await store();
    await typed(local, 1, 'one');
    await claimAll(local);
    await local.queueEdit(uuid(1), 'two', origin(2));
    await claimAll(local);
    await local.queueEdit(uuid(1), 'three', origin(3));
    const outbox = await local.readOutbox(0, 10);
    expect(outbox.map((entry) => [entry.id, entry.body])).toEqual([
      [uuid(1), 'one'],
      [uuid(2), 'two'],
      [uuid(3), 'three'],
    ]);
  });

  it('claims only the entries planned into the batch, not every one it read', async () => {
    const local = await store();
    await typed(local, 1, 'first');
    await typed(local, 2, 'second');
    await local.claimBatch(0, 100, (candidates) =>
      planBatch(candidates, { maxMessages: 1, maxBytes: 40_000 }),
    );
    expect(await local.queueEdit(uuid(2), 'second, better', origin(3))).toMatchObject({
      status: 'pending',
      body: 'second, better',
    });
    expect((await local.queueEdit(uuid(1), 'first, better', origin(4)))?.pendingOp).toMatchObject({
      kind: 'edit',
    });
  });

  it('treats what a version before edits queued as possibly sent: an edit of it is queued, not rewritten', async () => {
    const name = `outbox-ops-v1-${process.pid}-${nextDb++}`;
    // The schema as version 1 of the database had it, with one message queued.
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore('outbox', { keyPath: 'key', autoIncrement: true });
        const messages = db.createObjectStore('messages', { keyPath: 'id' });
        messages.createIndex('by-room', 'room');
        messages.createIndex('by-room-seq', ['room', 'seq']);
        db.createObjectStore('rooms', { keyPath: 'room' });
        db.createObjectStore('session');
      },
    });
    const queued = {
      id: uuid(1),
      room: 'r',
      body: 'maybe on the server',
      author: 'u',
      createdAt: 1,
    };
    const key = await v1.add('outbox', queued);
    await v1.put('messages', { ...queued, authorId: 'u', status: 'pending', order: key });
    v1.close();

    const local = await LocalStore.open(name);
    opened.push(local);
    const changed = await local.queueEdit(uuid(1), 'edited', origin(2));
    expect(changed?.pendingOp).toMatchObject({ kind: 'edit', body: 'edited' });
    expect((await local.readOutbox(0, 10)).map((entry) => entry.body)).toEqual([
      'maybe on the server',
      'edited',
    ]);
  });
});

describe('operations heard for a message the device does not hold', () => {
  const X = uuid(50);
  const editOfX = (seq: number, body: string) => ({
    id: uuid(100 + seq),
    room: 'r',
    authorId: 'u',
    author: 'u',
    seq,
    ts: seq,
    kind: 'edit' as const,
    target: X,
    body,
  });
  const x = { id: X, room: 'r', authorId: 'u', author: 'u', body: 'old', seq: 2, ts: 2 };

  it('keeps an edit that overtook its message until the message arrives, then applies it', async () => {
    const local = await store();
    await local.commit({ ops: [editOfX(5, 'new')], room: { room: 'r', cursor: 1, floor: 1 } });
    const { changed } = await local.commit({ sent: [{ ...x, status: 'sent' }] });
    expect(changed[0]).toMatchObject({ body: 'new', edited: true, version: 5 });
  });

  it('drops it once the cursor passes it: a message still missing then is older than the floor', async () => {
    const name = `outbox-ops-amend-${process.pid}-${nextDb++}`;
    const local = await LocalStore.open(name);
    opened.push(local);
    await local.commit({ ops: [editOfX(5, 'new')], room: { room: 'r', cursor: 4, floor: 3 } });
    const raw = await openDB(name);
    expect(await raw.count('amendments')).toBe(1);
    raw.close();
    await local.commit({ ops: [editOfX(6, 'newer')], room: { room: 'r', cursor: 6, floor: 3 } });
    const after = await openDB(name);
    expect(await after.count('amendments')).toBe(0);
    after.close();
  });
});
