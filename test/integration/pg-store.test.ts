import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { AppendOutcome } from '../../src/server/store/message-store.ts';
import { migratePg, openPgPool } from '../../src/server/store/pg-db.ts';
import { PgMessageStore } from '../../src/server/store/pg-store.ts';
import { isStoreBusy } from '../../src/server/store/store-errors.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { connectTo, describeWithPostgres, freshDatabase } from '../support/postgres.ts';
import { waitFor } from '../support/wait.ts';
import { runMessageStoreContract } from './message-store.contract.ts';

const U = { id: 'user-u', name: 'u' };
const ALICE = { id: 'user-alice', name: 'alice' };

const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describeWithPostgres('PostgreSQL message store', () => {
  runMessageStoreContract('PostgreSQL', async () => {
    const db = await freshDatabase();
    return {
      store: await PgMessageStore.open(db.url),
      reopen: () => PgMessageStore.open(db.url),
      dispose: db.drop,
    };
  });

  const cleanups = cleanupsAfterEach();

  /** A fresh database and a store on a pool the test can watch. */
  async function storeWithPool() {
    const db = await freshDatabase();
    const warnings: string[] = [];
    const pool = openPgPool(db.url, (line) => warnings.push(line));
    cleanups.push(db.drop, () => pool.end());
    await migratePg(pool);
    return { db, pool, warnings, store: new PgMessageStore(pool) };
  }

  it('keeps one hot room gap-free and in ts order while four stores, each on its own pool as in its own process, append to it at once', async () => {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    const stores = await Promise.all([1, 2, 3, 4].map(() => PgMessageStore.open(db.url)));
    cleanups.push(...stores.map((store) => () => store.close()));
    const batch = (store: number, n: number) =>
      Array.from({ length: 5 }, (_, i) => ({ id: id(store * 1_000 + n * 10 + i), body: 'x' }));

    const sends: Promise<AppendOutcome[]>[] = [];
    stores.forEach((store, s) => {
      const nextProcess = stores[(s + 1) % stores.length] as PgMessageStore;
      for (let n = 0; n < 20; n++) {
        const author = n % 2 === 0 ? U : ALICE;
        // A clock that stalls: ts must still strictly increase.
        sends.push(store.appendBatch('hot', author, batch(s, n), 1_000));
        // The same batch again through the next process, like a client that reconnected
        // elsewhere and resent it: stored once, whichever process gets there first.
        sends.push(nextProcess.appendBatch('hot', author, batch(s, n), 1_000));
      }
    });
    const outcomes = (await Promise.all(sends)).flat();

    const stored = await stores[0]?.pageAfter('hot', 0, 1_000);
    expect(stored?.map((m) => m.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const ts = stored?.map((m) => m.ts) ?? [];
    expect(ts.every((t, i) => i === 0 || t > (ts[i - 1] as number))).toBe(true);
    expect(new Set(stored?.map((m) => m.id)).size).toBe(400);
    expect(outcomes.filter((o) => o.status === 'accepted')).toHaveLength(400);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(400);
    expect(await stores[3]?.latestSeq('hot')).toBe(400);
  });

  it('sends the batches that wait for a busy room as one call, and answers each batch with its own outcomes', async () => {
    const { pool, store } = await storeWithPool();
    let calls = 0;
    pool.on('acquire', () => {
      calls += 1;
    });
    const sends = Array.from({ length: 8 }, (_, k) =>
      store.appendBatch(
        'a',
        k % 2 === 0 ? U : ALICE,
        [
          { id: id(2 * k + 1), body: `${2 * k + 1}` },
          { id: id(2 * k + 2), body: `${2 * k + 2}` },
        ],
        10,
      ),
    );
    const retried = store.appendBatch(
      'a',
      U,
      [
        { id: id(1), body: '1' },
        { id: id(17), body: '17' },
      ],
      10,
    );
    const stolen = store.appendBatch('a', ALICE, [{ id: id(1), body: 'mine now' }], 10);
    const results = await Promise.all([...sends, retried, stolen]);

    // The first batch found the room idle and went alone; the other nine waited for it.
    expect(calls).toBe(2);
    results.slice(0, 8).forEach((outcomes, k) => {
      expect(outcomes.map((o) => o.status === 'accepted' && o.message.seq)).toEqual([
        2 * k + 1,
        2 * k + 2,
      ]);
    });
    expect(results[8]).toMatchObject([
      { status: 'duplicate', message: { seq: 1, body: '1', authorId: U.id } },
      { status: 'accepted', message: { seq: 17, body: '17' } },
    ]);
    expect(results[9]).toEqual([{ id: id(1), status: 'conflict' }]);
    expect(await store.count('a')).toBe(17);
  });

  it("checks each operation of batches sent together against its own sender: one author's edit is applied, another's of the same message refused", async () => {
    const { store } = await storeWithPool();
    await store.appendBatch('a', ALICE, [{ id: id(1), body: 'alice' }], 1);
    // The first call finds the room idle and goes alone; the next two wait and go as one.
    const [, byAlice, byU] = await Promise.all([
      store.appendBatch('a', U, [{ id: id(2), body: 'u' }], 2),
      store.appendBatch('a', ALICE, [{ id: id(3), kind: 'edit', target: id(1), body: 'a!' }], 3),
      store.appendBatch('a', U, [{ id: id(4), kind: 'delete', target: id(1) }], 3),
    ]);
    expect(byAlice).toMatchObject([{ status: 'accepted', message: { seq: 3, kind: 'edit' } }]);
    expect(byU).toEqual([{ id: id(4), status: 'refused', code: 'not_author' }]);
    expect((await store.pageAfter('a', 0, 10))[0]).toMatchObject({ body: 'a!', version: 3 });
  });

  it('answers an edit resent after its message was deleted as the stored (now erased) edit, not as refused', async () => {
    const { store } = await storeWithPool();
    const edit = { id: id(2), kind: 'edit' as const, target: id(1), body: 'secret 2' };
    await store.appendBatch('a', U, [{ id: id(1), body: 'secret' }, edit], 1);
    await store.appendBatch('a', U, [{ id: id(3), kind: 'delete', target: id(1) }], 2);
    const [again] = await store.appendBatch('a', U, [edit], 3);
    expect(again).toEqual({
      id: id(2),
      status: 'duplicate',
      message: {
        id: id(2),
        room: 'a',
        seq: 2,
        ts: 2,
        authorId: U.id,
        author: U.name,
        kind: 'edit',
        target: id(1),
        body: '',
        deleted: true,
      },
    });
    expect(await store.latestSeq('a')).toBe(3);
  });

  it('fails only the batch PostgreSQL refuses when it was sent together with others', async () => {
    const { store } = await storeWithPool();
    // PostgreSQL text cannot hold U+0000, so the call that carries this body fails.
    const refused = [
      { id: id(3), body: 'same batch' },
      { id: id(4), body: 'nul \u0000 byte' },
    ];
    const results = await Promise.allSettled([
      store.appendBatch('a', U, [{ id: id(1), body: 'alone' }], 1),
      store.appendBatch('a', U, [{ id: id(2), body: 'before' }], 1),
      store.appendBatch('a', U, refused, 1),
      store.appendBatch('a', U, [{ id: id(5), body: 'after' }], 1),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const failure = results[2]?.status === 'rejected' ? results[2].reason : undefined;
    expect(isStoreBusy(failure)).toBe(false);
    const stored = await store.pageAfter('a', 0, 10);
    expect(stored.map((m) => [m.seq, m.body])).toEqual([
      [1, 'alone'],
      [2, 'before'],
      [3, 'after'],
    ]);
  });

  it('rejects the calls in flight as unavailable when their backends are terminated, and the next call succeeds', async () => {
    const { db, store, warnings } = await storeWithPool();
    const rooms = ['r1', 'r2', 'r3'];
    await Promise.all(
      rooms.map((room) => store.appendBatch(room, U, [{ id: randomUUID(), body: 'first' }], 1)),
    );
    // More connections than the calls below take, so idle ones are terminated too.
    await Promise.all(Array.from({ length: 6 }, () => store.latestSeq('r1')));

    // Hold the rooms' counter rows, so that the appends wait in the database.
    const admin = await connectTo(db.url);
    cleanups.push(() => admin.end());
    await admin.query('BEGIN');
    await admin.query('SELECT 1 FROM rooms WHERE room = ANY($1) FOR UPDATE', [rooms]);
    // Settled from the start: a call may fail before the terminate query's own answer is
    // read, and a rejection with no handler yet would count as unhandled.
    const inFlight = Promise.allSettled(
      rooms.map((room) => store.appendBatch(room, U, [{ id: randomUUID(), body: 'stuck' }], 2)),
    );
    await waitFor('the appends to wait on the counter rows', async () => {
      const { rows } = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        [db.name],
      );
      return rows[0].n === rooms.length;
    });

    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db.name],
    );
    const results = await inFlight;
    expect(results.map((r) => r.status === 'rejected' && isStoreBusy(r.reason))).toEqual([
      true,
      true,
      true,
    ]);
    await admin.query('ROLLBACK');
    // The idle connections died too: the pool heard of it instead of the process crashing.
    await waitFor('the pool to report its idle connections', () => warnings.length >= 3);

    const [next] = await store.appendBatch('r1', U, [{ id: randomUUID(), body: 'next' }], 3);
    expect(next).toMatchObject({ status: 'accepted', message: { seq: 2 } });
  });
});
