// The history handler over a real SQLite store whose reads the test holds open, so that
// requests overlap the way hundreds of clients' catch-ups do after a blip.
import { afterEach, describe, expect, it } from 'vitest';
import { createHistoryHandler } from '../../src/server/history-handler.ts';
import type { FerrySocket } from '../../src/server/socket-types.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import { SqliteMessageStore } from '../../src/server/store/sqlite-store.ts';
import { withStoreOverrides } from '../support/server.ts';

const ROOM = 'lobby';
const AUTHOR = { id: 'user-ada', name: 'Ada' };

/** The handler reads nothing of a socket but its user. */
const socketOf = (userId: string) => ({ data: { userId } }) as unknown as FerrySocket;

describe('history handler', () => {
  let sqlite: SqliteMessageStore;
  afterEach(() => sqlite.close());

  /** A store holding three messages whose `pageAfter` calls wait for `release()`. */
  async function heldStore() {
    sqlite = new SqliteMessageStore(':memory:');
    await sqlite.appendBatch(
      ROOM,
      AUTHOR,
      ['one', 'two', 'three'].map((body) => ({ id: crypto.randomUUID(), body })),
      1_000,
    );
    const calls: number[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store: MessageStore = withStoreOverrides(sqlite, {
      pageAfter: async (...args) => {
        calls.push(args[1]);
        await gate;
        return sqlite.pageAfter(...args);
      },
    });
    return { store, calls, release };
  }

  it('answers identical page requests that overlap with one read of the store', async () => {
    const { store, calls, release } = await heldStore();
    const handle = createHistoryHandler({ store, mayEnter: async () => true });
    const answers = Array.from({ length: 50 }, (_, i) =>
      handle(socketOf(`user-${i}`), { room: ROOM, after: 1, limit: 100 }),
    );
    release();
    const acks = await Promise.all(answers);
    expect(calls).toEqual([1]);
    for (const ack of acks) {
      expect(ack.ok && ack.messages.map((m) => m.seq)).toEqual([2, 3]);
      expect(ack.ok && ack.latestSeq).toBe(3);
    }
  });

  it('reads the store apart for requests after different seqs', async () => {
    const { store, calls, release } = await heldStore();
    const handle = createHistoryHandler({ store, mayEnter: async () => true });
    const answers = [0, 1, 1, 2].map((after) =>
      handle(socketOf('user-ada'), { room: ROOM, after, limit: 100 }),
    );
    release();
    await Promise.all(answers);
    expect(calls.sort()).toEqual([0, 1, 2]);
  });

  it('reads the store afresh once the shared read is over', async () => {
    const { store, calls, release } = await heldStore();
    release();
    const handle = createHistoryHandler({ store, mayEnter: async () => true });
    await handle(socketOf('user-ada'), { room: ROOM, after: 0, limit: 100 });
    await handle(socketOf('user-ada'), { room: ROOM, after: 0, limit: 100 });
    expect(calls).toEqual([0, 0]);
  });

  it('refuses a request from a non-member even while a member read the same page', async () => {
    const { store, release } = await heldStore();
    const handle = createHistoryHandler({
      store,
      mayEnter: async (_room, userId) => userId !== 'user-eve',
    });
    const member = handle(socketOf('user-ada'), { room: ROOM, after: 0, limit: 100 });
    const outsider = handle(socketOf('user-eve'), { room: ROOM, after: 0, limit: 100 });
    release();
    expect((await member).ok).toBe(true);
    const refused = await outsider;
    expect(refused.ok === false && refused.error.code).toBe('forbidden');
  });
});
