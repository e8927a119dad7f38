import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BUSY_TIMEOUT_MS } from '../../src/server/store/sqlite-db.ts';
import { LOCKED_PAUSE_MS, SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { isStoreBusy } from '../../src/server/store/store-errors.ts';
import { tempDir } from '../support/server.ts';
import { runMessageStoreContract } from './message-store.contract.ts';

runMessageStoreContract('SQLite file', async () => {
  const dir = tempDir();
  const path = `${dir.path}/nested/ferry.db`;
  return {
    store: new SqliteMessageStore(path),
    reopen: async () => new SqliteMessageStore(path),
    dispose: async () => dir.dispose(),
  };
});

describe('SQLite group commit', () => {
  it('rolls back a batch that fails alone, while the batches committed with it are stored', async () => {
    const dir = tempDir();
    const store = new SqliteMessageStore(`${dir.path}/ferry.db`);
    const author = { id: 'u', name: 'u' };
    const uuid = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
    // A body the NOT NULL column refuses: the insert throws inside the shared transaction.
    const broken = { id: uuid(3), body: null as unknown as string };
    const results = await Promise.allSettled([
      store.appendBatch('a', author, [{ id: uuid(1), body: 'before' }], 1),
      store.appendBatch('a', author, [{ id: uuid(2), body: 'same batch' }, broken], 1),
      store.appendBatch('a', author, [{ id: uuid(4), body: 'after' }], 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = await store.pageAfter('a', 0, 10);
    expect(stored.map((m) => [m.seq, m.body])).toEqual([
      [1, 'before'],
      [2, 'after'],
    ]);
    await store.close();
    dir.dispose();
  });
});

describe('SQLite under a write lock held by another connection', () => {
  const author = { id: 'u', name: 'u' };
  const message = () => [{ id: randomUUID(), body: 'hello' }];

  async function locked() {
    const dir = tempDir();
    const path = `${dir.path}/ferry.db`;
    const store = new SqliteMessageStore(path);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    return {
      store,
      release: () => other.exec('ROLLBACK'),
      dispose: async () => {
        other.close();
        await store.close();
        dir.dispose();
      },
    };
  }

  it('fails a batch as busy after a short wait', async () => {
    const { store, dispose } = await locked();
    const started = performance.now();
    const error = await store.appendBatch('a', author, message(), 1).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(4 * BUSY_TIMEOUT_MS);
    expect(isStoreBusy(error)).toBe(true);
    await dispose();
  });

  it('waits on the lock once, not once per batch, while batches keep coming', async () => {
    const { store, dispose } = await locked();
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      await expect(store.appendBatch('a', author, message(), 1)).rejects.toSatisfy(isStoreBusy);
    }
    expect(performance.now() - started).toBeLessThan(4 * BUSY_TIMEOUT_MS);
    await dispose();
  });

  it('still answers a ping: reads go on under the lock', async () => {
    const { store, dispose } = await locked();
    await expect(store.appendBatch('a', author, message(), 1)).rejects.toSatisfy(isStoreBusy);
    await store.ping();
    await dispose();
  });

  it('stores again once the lock is released and the pause is over', async () => {
    const { store, release, dispose } = await locked();
    await expect(store.appendBatch('a', author, message(), 1)).rejects.toSatisfy(isStoreBusy);
    release();
    await new Promise((resolve) => setTimeout(resolve, LOCKED_PAUSE_MS));
    const outcomes = await store.appendBatch('a', author, message(), 1);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['accepted']);
    await dispose();
  });
});

describe('SQLite ping', () => {
  it('fails once the database file is removed or replaced under the open store', async () => {
    const dir = tempDir();
    const path = `${dir.path}/ferry.db`;
    const store = new SqliteMessageStore(path);
    await store.ping();
    renameSync(path, `${path}.moved`);
    await expect(store.ping()).rejects.toThrow(`the database file ${path} was removed while open`);
    // What a restore over a running server does: another file moved in under the name.
    await new SqliteMessageStore(`${dir.path}/other.db`).close();
    renameSync(`${dir.path}/other.db`, path);
    await expect(store.ping()).rejects.toThrow(`the database file ${path} was replaced while open`);
    await store.close();
    dir.dispose();
  });

  it('answers for an in-memory database', async () => {
    const store = new SqliteMessageStore(':memory:');
    await store.ping();
    await store.close();
  });
});
