import { describe, expect, it } from 'vitest';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
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
