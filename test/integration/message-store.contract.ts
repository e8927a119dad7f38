import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageStore } from '../../src/server/store/message-store.ts';

const U = { id: 'user-u', name: 'u' };
const ALICE = { id: 'user-alice', name: 'alice' };
const MALLORY = { id: 'user-mallory', name: 'alice' };

const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

/**
 * The contract every MessageStore keeps (see message-store.ts). Each implementation's test
 * file calls this with a factory for a fresh, empty store and a way to reopen it.
 */
export function runMessageStoreContract(
  name: string,
  factory: () => Promise<{
    store: MessageStore;
    reopen(): Promise<MessageStore>;
    dispose(): Promise<void>;
  }>,
): void {
  describe(`MessageStore contract: ${name}`, () => {
    let store: MessageStore;
    let reopen: () => Promise<MessageStore>;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, reopen, dispose } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await dispose();
    });

    it('gives each room its own seqs, starting at 1 and without holes', async () => {
      await store.appendBatch(
        'a',
        U,
        [
          { id: id(1), body: 'a1' },
          { id: id(2), body: 'a2' },
        ],
        100,
      );
      await store.appendBatch('b', U, [{ id: id(3), body: 'b1' }], 100);
      await store.appendBatch('a', U, [{ id: id(4), body: 'a3' }], 100);
      expect((await store.pageAfter('a', 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
      expect((await store.pageAfter('b', 0, 10)).map((m) => m.seq)).toEqual([1]);
      expect(await store.latestSeq('a')).toBe(3);
      expect(await store.latestSeq('empty')).toBe(0);
    });

    it('reads the newest seq of many rooms at once, 0 for a room with no messages', async () => {
      await store.appendBatch('a', U, [{ id: id(1), body: 'a1' }], 100);
      await store.appendBatch('a', U, [{ id: id(2), body: 'a2' }], 100);
      await store.appendBatch('b', U, [{ id: id(3), body: 'b1' }], 100);
      const seqs = await store.latestSeqs(['a', 'b', 'empty']);
      expect([...seqs].sort()).toEqual([
        ['a', 2],
        ['b', 1],
        ['empty', 0],
      ]);
      expect((await store.latestSeqs([])).size).toBe(0);
    });

    it('makes ts strictly increase within a room even when the clock stalls or goes back', async () => {
      await store.appendBatch(
        'a',
        U,
        [
          { id: id(1), body: '1' },
          { id: id(2), body: '2' },
        ],
        1_000,
      );
      await store.appendBatch('a', U, [{ id: id(3), body: '3' }], 500);
      await store.appendBatch('a', U, [{ id: id(4), body: '4' }], 5_000);
      expect((await store.pageAfter('a', 0, 10)).map((m) => m.ts)).toEqual([
        1_000, 1_001, 1_002, 5_000,
      ]);
    });

    it('answers a repeated id with the original message, never storing it twice', async () => {
      const [first] = await store.appendBatch('a', U, [{ id: id(1), body: 'once' }], 100);
      const again = await store.appendBatch(
        'a',
        U,
        [
          { id: id(1), body: 'once' },
          { id: id(2), body: 'x' },
        ],
        900,
      );
      expect(again[0]).toEqual({ ...first, status: 'duplicate' });
      expect(again[1]).toMatchObject({ status: 'accepted', message: { seq: 2 } });
      expect(await store.count('a')).toBe(2);
    });

    it('dedups within one batch', async () => {
      const outcomes = await store.appendBatch(
        'a',
        U,
        [
          { id: id(1), body: 'x' },
          { id: id(1), body: 'x' },
        ],
        1,
      );
      expect(outcomes.map((o) => o.status)).toEqual(['accepted', 'duplicate']);
      expect(await store.count('a')).toBe(1);
    });

    it('reports an id taken by another author (even one with the same name) or room as a conflict, revealing nothing', async () => {
      await store.appendBatch('a', ALICE, [{ id: id(1), body: 'secret' }], 1);
      const [byOther] = await store.appendBatch('a', MALLORY, [{ id: id(1), body: 'x' }], 2);
      const [inOtherRoom] = await store.appendBatch('b', ALICE, [{ id: id(1), body: 'x' }], 2);
      expect(byOther).toEqual({ id: id(1), status: 'conflict' });
      expect(inOtherRoom).toEqual({ id: id(1), status: 'conflict' });
      expect(await store.count('b')).toBe(0);
    });

    it('appends batches that arrive together in call order, each with its own outcomes', async () => {
      const [first, second, third] = await Promise.all([
        store.appendBatch(
          'a',
          U,
          [
            { id: id(1), body: '1' },
            { id: id(2), body: '2' },
          ],
          10,
        ),
        store.appendBatch('a', ALICE, [{ id: id(3), body: '3' }], 10),
        store.appendBatch(
          'a',
          U,
          [
            { id: id(1), body: '1' },
            { id: id(4), body: '4' },
          ],
          10,
        ),
      ]);
      expect(first?.map((o) => o.status === 'accepted' && o.message.seq)).toEqual([1, 2]);
      expect(second?.map((o) => o.status === 'accepted' && o.message.seq)).toEqual([3]);
      expect(third?.map((o) => o.status)).toEqual(['duplicate', 'accepted']);
      expect((await store.pageAfter('a', 0, 10)).map((m) => m.body)).toEqual(['1', '2', '3', '4']);
    });

    it('tells which ids are stored, by any author in any room', async () => {
      expect(await store.storedIds([])).toEqual(new Set());
      await store.appendBatch('a', ALICE, [{ id: id(1), body: 'a' }], 1);
      await store.appendBatch('b', U, [{ id: id(2), body: 'b' }], 1);
      expect(await store.storedIds([id(3), id(2), id(1), id(2)])).toEqual(new Set([id(1), id(2)]));
    });

    it('pages after and before a seq, ascending', async () => {
      const items = Array.from({ length: 10 }, (_, i) => ({ id: id(i + 1), body: `${i + 1}` }));
      await store.appendBatch('a', U, items, 1);
      expect((await store.pageAfter('a', 3, 4)).map((m) => m.seq)).toEqual([4, 5, 6, 7]);
      expect((await store.pageAfter('a', 8, 4)).map((m) => m.seq)).toEqual([9, 10]);
      expect((await store.pageBefore('a', 8, 3)).map((m) => m.seq)).toEqual([5, 6, 7]);
      expect((await store.pageBefore('a', 2, 3)).map((m) => m.seq)).toEqual([1]);
    });

    it('answers a ping, empty or not, and many pings at once', async () => {
      await store.ping();
      await store.appendBatch('a', U, [{ id: id(1), body: 'a1' }], 1);
      await Promise.all(Array.from({ length: 20 }, () => store.ping()));
    });

    it('fails a ping once closed, with a reason', async () => {
      await store.close();
      await expect(store.ping()).rejects.toThrow(/\w/);
    });

    it('keeps messages, seqs and dedup across a reopen', async () => {
      await store.appendBatch('a', U, [{ id: id(1), body: 'kept' }], 1);
      await store.close();
      store = await reopen();
      const [again] = await store.appendBatch('a', U, [{ id: id(1), body: 'kept' }], 2);
      const [next] = await store.appendBatch('a', U, [{ id: id(2), body: 'next' }], 3);
      expect(again).toMatchObject({
        status: 'duplicate',
        message: { seq: 1, ts: 1, body: 'kept' },
      });
      expect(next).toMatchObject({ status: 'accepted', message: { seq: 2 } });
    });
  });
}
