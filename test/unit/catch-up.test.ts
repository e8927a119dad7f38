// Catch-up on its own: a fake server history and a fake device cursor, page by page.
import { describe, expect, it, vi } from 'vitest';
import { CatchUp, type CatchUpDeps, type HistoryPage } from '../../src/client/catch-up.ts';
import type { StoredMessage } from '../../src/shared/protocol.ts';

const ROOM = 'lobby';

function message(seq: number): StoredMessage {
  return {
    id: `id-${seq}`,
    room: ROOM,
    authorId: 'u',
    author: 'Ada',
    body: `#${seq}`,
    seq,
    ts: seq,
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise chain run to its end. */
function idle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A room whose server holds seqs 1..latestSeq, and a device whose cursor moves over each
 * stored page (as LocalStore and the seq cursor do). `fetches` and `stores` record the
 * `after` of each page request and the seqs of each stored page.
 */
function room(options: { latestSeq: number; cursor?: number; pageSize?: number }) {
  /** `seenPast`: a live message past the cursor is stored (a hole), up to that seq. */
  const state = { latestSeq: options.latestSeq, cursor: options.cursor ?? 0, seenPast: 0 };
  const fetches: number[] = [];
  const stores: number[][] = [];
  const progress: (number | null)[] = [];
  const pageSize = options.pageSize ?? 100;
  const serve = async (after: number): Promise<HistoryPage> => {
    const last = Math.min(state.latestSeq, after + pageSize);
    const messages = [];
    for (let seq = after + 1; seq <= last; seq++) messages.push(message(seq));
    return { messages, latestSeq: state.latestSeq };
  };
  const deps = {
    cursorOf: vi.fn((_room: string) => state.cursor),
    hasGap: (_room: string) => state.seenPast > state.cursor + 1,
    fetchPage: vi.fn(async (_room: string, after: number) => {
      fetches.push(after);
      return serve(after);
    }),
    storePage: vi.fn(async (_room: string, messages: StoredMessage[]) => {
      stores.push(messages.map((m) => m.seq));
      const first = messages[0]?.seq;
      const last = messages.at(-1)?.seq;
      if (first !== undefined && last !== undefined && first <= state.cursor + 1) {
        state.cursor = Math.max(state.cursor, last);
      }
    }),
    onProgress: vi.fn((_room: string, remaining: number | null) => progress.push(remaining)),
    pageSize,
  } satisfies CatchUpDeps;
  return { state, deps, fetches, stores, progress, serve, catchUp: new CatchUp(deps) };
}

describe('CatchUp', () => {
  it.each([
    { latestSeq: 250, cursor: 0, fetches: [0, 100, 200] },
    { latestSeq: 200, cursor: 0, fetches: [0, 100, 200] },
    { latestSeq: 250, cursor: 120, fetches: [120, 220] },
    { latestSeq: 40, cursor: 40, fetches: [40] },
  ])(
    'fetches pages after the cursor until a short page (latest $latestSeq, cursor $cursor)',
    async ({ latestSeq, cursor, fetches }) => {
      const setup = room({ latestSeq, cursor });
      await setup.catchUp.run(ROOM);
      expect(setup.fetches).toEqual(fetches);
      expect(setup.state.cursor).toBe(latestSeq);
    },
  );

  it('goes round once more, rather than start a second run, when runs are requested during one', async () => {
    const setup = room({ latestSeq: 50 });
    const gate = deferred<void>();
    setup.deps.fetchPage.mockImplementationOnce(async (_room, after) => {
      setup.fetches.push(after);
      await gate.promise;
      return setup.serve(after);
    });
    const runs = [setup.catchUp.run(ROOM), setup.catchUp.run(ROOM), setup.catchUp.run(ROOM)];
    await idle();
    expect(setup.fetches).toEqual([0]);
    gate.resolve();
    await Promise.all(runs);
    // Round one caught up to 50; round two asked once more after 50, and found nothing.
    expect(setup.fetches).toEqual([0, 50]);
  });

  it('goes round once more when a short page was read before a message the device has seen past', async () => {
    const setup = room({ latestSeq: 5 });
    setup.state.seenPast = 5;
    // The server answered from a read shared with an earlier request, before 1..5 were in.
    setup.deps.fetchPage.mockImplementationOnce(async (_room, after) => {
      setup.fetches.push(after);
      return { messages: [], latestSeq: 0 };
    });
    await setup.catchUp.run(ROOM);
    expect(setup.fetches).toEqual([0, 0]);
    expect(setup.state.cursor).toBe(5);
  });

  it('goes round only once more for a hole the server cannot fill', async () => {
    const setup = room({ latestSeq: 3 });
    setup.state.seenPast = 9;
    await setup.catchUp.run(ROOM);
    expect(setup.fetches).toEqual([0, 3]);
  });

  it('starts a new run once the previous one has ended', async () => {
    const setup = room({ latestSeq: 10 });
    await setup.catchUp.run(ROOM);
    setup.state.latestSeq = 30;
    await setup.catchUp.run(ROOM);
    expect(setup.fetches).toEqual([0, 10]);
    expect(setup.state.cursor).toBe(30);
  });

  it('prefetches the next page while the current one is being stored', async () => {
    const setup = room({ latestSeq: 250 });
    const stored = deferred<void>();
    setup.deps.storePage.mockImplementationOnce(async (_room, messages) => {
      setup.stores.push(messages.map((m) => m.seq));
      await stored.promise;
      setup.state.cursor = 100;
    });
    const run = setup.catchUp.run(ROOM);
    await idle();
    expect(setup.stores).toHaveLength(1);
    expect(setup.fetches).toEqual([0, 100]);
    stored.resolve();
    await run;
    expect(setup.fetches).toEqual([0, 100, 200]);
  });

  it('drops the prefetch and fetches after the cursor when storing moved it elsewhere', async () => {
    const setup = room({ latestSeq: 300 });
    // Live messages 101..150 were already stored: the first page closes the gap up to 150.
    setup.deps.storePage.mockImplementationOnce(async (_room, messages) => {
      setup.stores.push(messages.map((m) => m.seq));
      setup.state.cursor = 150;
    });
    await setup.catchUp.run(ROOM);
    expect(setup.fetches).toEqual([0, 100, 150, 250]);
    expect(setup.stores.map((seqs) => seqs[0])).toEqual([1, 151, 251]);
    expect(setup.state.cursor).toBe(300);
  });

  it('ignores a failed prefetch that was dropped because the cursor moved elsewhere', async () => {
    const setup = room({ latestSeq: 300 });
    setup.deps.storePage.mockImplementationOnce(async () => {
      setup.state.cursor = 150;
    });
    setup.deps.fetchPage.mockImplementation(async (_room, after) => {
      setup.fetches.push(after);
      if (after === 100) throw new Error('link dropped');
      return setup.serve(after);
    });
    await setup.catchUp.run(ROOM);
    expect(setup.fetches).toEqual([0, 100, 150, 250]);
    expect(setup.progress.at(-1)).toBeNull();
  });

  it('stops on a full page that did not move the cursor, instead of fetching it forever', async () => {
    const setup = room({ latestSeq: 1_000 });
    setup.deps.storePage.mockImplementation(async (_room, messages) => {
      setup.stores.push(messages.map((m) => m.seq));
    });
    await setup.catchUp.run(ROOM);
    expect(setup.stores).toHaveLength(1);
    expect(setup.fetches).toEqual([0, 100]);
    expect(setup.progress.at(-1)).toBeNull();
  });

  it.each([
    { step: 'the first fetch', failAfter: 0 },
    { step: 'a prefetched page', failAfter: 100 },
  ])(
    'ends the run quietly and reports progress null when $step is rejected',
    async ({ failAfter }) => {
      const setup = room({ latestSeq: 250 });
      setup.deps.fetchPage.mockImplementation(async (_room, after) => {
        setup.fetches.push(after);
        if (after === failAfter) throw new Error('link dropped');
        return setup.serve(after);
      });
      await expect(setup.catchUp.run(ROOM)).resolves.toBeUndefined();
      expect(setup.state.cursor).toBe(failAfter);
      expect(setup.progress.at(-1)).toBeNull();
    },
  );

  it('ends the run quietly when storing a page fails', async () => {
    const setup = room({ latestSeq: 250 });
    setup.deps.storePage.mockRejectedValueOnce(new Error('quota exceeded'));
    await expect(setup.catchUp.run(ROOM)).resolves.toBeUndefined();
    expect(setup.progress.at(-1)).toBeNull();
  });

  it('reports how many messages remain as each page arrives, then null when done', async () => {
    const setup = room({ latestSeq: 250 });
    await setup.catchUp.run(ROOM);
    expect(setup.progress).toEqual([150, 50, 0, null]);
  });

  it('catches up two rooms side by side: a run in one room does not hold back the other', async () => {
    const setup = room({ latestSeq: 10 });
    const gate = deferred<void>();
    setup.deps.fetchPage.mockImplementationOnce(async (_room, after) => {
      await gate.promise;
      return setup.serve(after);
    });
    const lobby = setup.catchUp.run(ROOM);
    await setup.catchUp.run('kitchen');
    expect(setup.deps.fetchPage.mock.calls.map(([name]) => name)).toEqual([ROOM, 'kitchen']);
    gate.resolve();
    await lobby;
  });
});
