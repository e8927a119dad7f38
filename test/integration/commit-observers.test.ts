// MessageStore's `observeCommits` (ferry_group_commit_* in /metrics): both stores say how
// many batches each commit took together, and how long it took.
import { describe, expect, it } from 'vitest';
import type { CommitStats, MessageStore } from '../../src/server/store/message-store.ts';
import { PgMessageStore } from '../../src/server/store/pg-store.ts';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { describeWithPostgres, freshDatabase } from '../support/postgres.ts';

const AUTHOR = { id: 'user-a', name: 'a' };
const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

function runCommitObserverCases(
  name: string,
  open: () => Promise<{ store: MessageStore; dispose(): Promise<void> }>,
) {
  describe(`${name} commit observers`, () => {
    const cleanups = cleanupsAfterEach();

    async function observed() {
      const { store, dispose } = await open();
      cleanups.push(dispose);
      const commits: CommitStats[] = [];
      const stop = store.observeCommits?.((stats) => commits.push(stats));
      if (!stop) throw new Error(`${name} store has no observeCommits`);
      return { store, commits, stop };
    }

    it('reports batches appended at once as commits whose batch counts add up to them', async () => {
      const { store, commits } = await observed();
      await Promise.all(
        [1, 2, 3].map((n) => store.appendBatch('lobby', AUTHOR, [{ id: id(n), body: 'x' }], n)),
      );
      expect(commits.reduce((sum, commit) => sum + commit.batches, 0)).toBe(3);
      for (const commit of commits) expect(commit.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('reports nothing more once its disposer is called', async () => {
      const { store, commits, stop } = await observed();
      await store.appendBatch('lobby', AUTHOR, [{ id: id(1), body: 'x' }], 1);
      stop();
      await store.appendBatch('lobby', AUTHOR, [{ id: id(2), body: 'x' }], 2);
      expect(commits).toHaveLength(1);
    });
  });
}

runCommitObserverCases('SQLite', async () => {
  const store = new SqliteMessageStore(':memory:');
  return { store, dispose: () => store.close() };
});

describeWithPostgres('PostgreSQL', () => {
  runCommitObserverCases('PostgreSQL', async () => {
    const db = await freshDatabase();
    const store = await PgMessageStore.open(db.url);
    return {
      store,
      dispose: async () => {
        await store.close();
        await db.drop();
      },
    };
  });
});
