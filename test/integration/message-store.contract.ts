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

    describe('edits and deletes', () => {
      const edit = (n: number, target: number, body: string) => ({
        id: id(n),
        kind: 'edit' as const,
        target: id(target),
        body,
      });
      const remove = (n: number, target: number) => ({
        id: id(n),
        kind: 'delete' as const,
        target: id(target),
      });
      const entries = async (room = 'a') => store.pageAfter(room, 0, 100);

      it("applies an edit at the next seq: the message reads with the new body, edited, at the edit's version", async () => {
        await store.appendBatch('a', U, [{ id: id(1), body: 'helo' }], 10);
        const [outcome] = await store.appendBatch('a', U, [edit(2, 1, 'hello')], 20);
        expect(outcome).toEqual({
          id: id(2),
          status: 'accepted',
          message: {
            id: id(2),
            room: 'a',
            seq: 2,
            ts: 20,
            authorId: U.id,
            author: U.name,
            kind: 'edit',
            target: id(1),
            body: 'hello',
          },
        });
        expect(await entries()).toEqual([
          {
            id: id(1),
            room: 'a',
            seq: 1,
            ts: 10,
            authorId: U.id,
            author: U.name,
            body: 'hello',
            edited: true,
            version: 2,
          },
          outcome?.status === 'accepted' ? outcome.message : null,
        ]);
      });

      it('applies a batch in order: a message, then two edits of it, ends at the last edit', async () => {
        await store.appendBatch(
          'a',
          U,
          [{ id: id(1), body: 'one' }, edit(2, 1, 'two'), edit(3, 1, 'three')],
          10,
        );
        const [message] = await entries();
        expect(message).toMatchObject({ body: 'three', edited: true, version: 3 });
        expect(await store.latestSeq('a')).toBe(3);
      });

      it('leaves a tombstone on delete: the message and every edit of it lose their body, for good', async () => {
        await store.appendBatch(
          'a',
          U,
          [{ id: id(1), body: 'secret' }, edit(2, 1, 'secret 2')],
          10,
        );
        const [outcome] = await store.appendBatch('a', U, [remove(3, 1)], 20);
        expect(outcome).toMatchObject({
          status: 'accepted',
          message: { seq: 3, kind: 'delete', target: id(1), body: '' },
        });
        await store.close();
        store = await reopen();
        const log = await entries();
        expect(log.map((entry) => entry.body)).toEqual(['', '', '']);
        expect(log[0]).toMatchObject({ id: id(1), deleted: true, version: 3 });
        expect(log[1]).toMatchObject({ id: id(2), kind: 'edit', deleted: true });
        expect(JSON.stringify(log)).not.toContain('secret');
      });

      it("refuses another author's message with not_author, and an unknown id, another room's message or an operation with not_found, taking no seq", async () => {
        await store.appendBatch('a', ALICE, [{ id: id(1), body: 'alice' }], 10);
        await store.appendBatch('b', U, [{ id: id(2), body: 'in b' }], 10);
        await store.appendBatch('a', U, [{ id: id(3), body: 'mine' }, edit(4, 3, 'mine!')], 10);
        const outcomes = await store.appendBatch(
          'a',
          U,
          [edit(5, 1, 'x'), remove(6, 1), edit(7, 99, 'x'), remove(8, 2), edit(9, 4, 'x')],
          20,
        );
        expect(
          outcomes.map((outcome) => [outcome.status, 'code' in outcome && outcome.code]),
        ).toEqual([
          ['refused', 'not_author'],
          ['refused', 'not_author'],
          ['refused', 'not_found'],
          ['refused', 'not_found'],
          ['refused', 'not_found'],
        ]);
        expect(await store.latestSeq('a')).toBe(3);
        expect((await entries())[0]).toMatchObject({ body: 'alice' });
        expect(await store.storedIds([id(5), id(6), id(7), id(8), id(9)])).toEqual(new Set());
      });

      it('refuses to edit a deleted message, and accepts deleting it again without changing it', async () => {
        await store.appendBatch('a', U, [{ id: id(1), body: 'gone' }, remove(2, 1)], 10);
        const outcomes = await store.appendBatch('a', U, [edit(3, 1, 'back?'), remove(4, 1)], 20);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['refused', 'accepted']);
        expect(outcomes[0]).toMatchObject({ code: 'message_deleted' });
        expect((await entries())[0]).toMatchObject({ body: '', deleted: true, version: 2 });
      });

      it('applies an operation resent with its id once, answering the stored operation', async () => {
        await store.appendBatch('a', U, [{ id: id(1), body: 'one' }, edit(2, 1, 'two')], 10);
        await store.appendBatch('a', U, [edit(3, 1, 'three')], 20);
        const [again] = await store.appendBatch('a', U, [edit(2, 1, 'two')], 30);
        expect(again).toMatchObject({
          status: 'duplicate',
          message: { seq: 2, kind: 'edit', body: 'two' },
        });
        expect(await store.count('a')).toBe(3);
        expect((await entries())[0]).toMatchObject({ body: 'three', version: 3 });
      });
    });

    describe('read cursors', () => {
      let next = 1_000;
      /** Appends `n` messages to `room`, so that its latest seq grows by `n`. */
      async function fill(room: string, n: number): Promise<void> {
        const items = Array.from({ length: n }, () => ({ id: id(next++), body: 'x' }));
        await store.appendBatch(room, U, items, 1);
      }
      const none = { delivered: 0, read: 0, othersDelivered: 0, othersRead: 0 };

      it('reads no cursors as zeros, for a user and room never heard of', async () => {
        expect(await store.receiptsFor('a', 'nobody')).toEqual(none);
        await fill('a', 3);
        expect(await store.receiptsFor('a', 'nobody')).toEqual(none);
      });

      it('never moves a cursor backwards: lower values leave the stored ones as they are', async () => {
        await fill('a', 10);
        expect(await store.setCursors('a', 'bob', { delivered: 8, read: 5 }, 1)).toEqual({
          delivered: 8,
          read: 5,
          moved: true,
        });
        expect(await store.setCursors('a', 'bob', { delivered: 3, read: 2 }, 2)).toEqual({
          delivered: 8,
          read: 5,
          moved: false,
        });
        // One up, the other down: the one that went up moves, the other stays.
        expect(await store.setCursors('a', 'bob', { delivered: 6, read: 6 }, 3)).toEqual({
          delivered: 8,
          read: 6,
          moved: true,
        });
        expect(await store.receiptsFor('a', 'bob')).toEqual({ ...none, delivered: 8, read: 6 });
      });

      it('answers a repeat with the cursors as stored, and says that nothing moved', async () => {
        await fill('a', 4);
        await store.setCursors('a', 'bob', { delivered: 4, read: 2 }, 1);
        for (let i = 0; i < 3; i++) {
          expect(await store.setCursors('a', 'bob', { delivered: 4, read: 2 }, 2 + i)).toEqual({
            delivered: 4,
            read: 2,
            moved: false,
          });
        }
        expect(await store.receiptsFor('a', 'bob')).toEqual({ ...none, delivered: 4, read: 2 });
      });

      it('raises delivered to read: what was seen on screen was delivered', async () => {
        await fill('a', 9);
        expect(await store.setCursors('a', 'bob', { delivered: 2, read: 7 }, 1)).toEqual({
          delivered: 7,
          read: 7,
          moved: true,
        });
        expect(await store.setCursors('a', 'bob', { delivered: 0, read: 9 }, 2)).toEqual({
          delivered: 9,
          read: 9,
          moved: true,
        });
      });

      it("lowers a cursor past the room's latest seq to it, and stores none in an empty room", async () => {
        expect(await store.setCursors('a', 'bob', { delivered: 5, read: 5 }, 1)).toEqual({
          delivered: 0,
          read: 0,
          moved: false,
        });
        expect(await store.receiptsFor('a', 'bob')).toEqual(none);
        await fill('a', 3);
        expect(await store.setCursors('a', 'bob', { delivered: 1_000, read: 2 }, 2)).toEqual({
          delivered: 3,
          read: 2,
          moved: true,
        });
        expect(await store.setCursors('a', 'bob', { delivered: 50, read: 50 }, 3)).toEqual({
          delivered: 3,
          read: 3,
          moved: true,
        });
        // Once the log grows, the same values are taken further.
        await fill('a', 2);
        expect(await store.setCursors('a', 'bob', { delivered: 50, read: 4 }, 4)).toEqual({
          delivered: 5,
          read: 4,
          moved: true,
        });
      });

      it("answers the highest of the other members' cursors, leaving the user's own out", async () => {
        await fill('a', 20);
        await store.setCursors('a', 'bob', { delivered: 20, read: 20 }, 1);
        await store.setCursors('a', 'carol', { delivered: 12, read: 3 }, 1);
        await store.setCursors('a', 'dave', { delivered: 7, read: 6 }, 1);
        expect(await store.receiptsFor('a', 'bob')).toEqual({
          delivered: 20,
          read: 20,
          othersDelivered: 12,
          othersRead: 6,
        });
        expect(await store.receiptsFor('a', 'carol')).toEqual({
          delivered: 12,
          read: 3,
          othersDelivered: 20,
          othersRead: 20,
        });
        // Someone with no cursors of their own still sees everyone else's.
        expect(await store.receiptsFor('a', 'erin')).toEqual({
          ...none,
          othersDelivered: 20,
          othersRead: 20,
        });
      });

      it('keeps one pair per user and room, for many users and rooms', async () => {
        await fill('a', 100);
        await fill('b', 100);
        const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
        await Promise.all(
          users.map((user, i) => store.setCursors('a', user, { delivered: i + 10, read: i }, 1)),
        );
        await store.setCursors('b', 'user-0', { delivered: 100, read: 100 }, 1);
        for (const [i, user] of users.entries()) {
          const highest = i === users.length - 1 ? users.length - 2 : users.length - 1;
          expect(await store.receiptsFor('a', user)).toEqual({
            delivered: i + 10,
            read: i,
            othersDelivered: highest + 10,
            othersRead: highest,
          });
        }
        // Another room's cursors count for nothing here, and the other way round.
        expect(await store.receiptsFor('b', 'user-1')).toEqual({
          ...none,
          othersDelivered: 100,
          othersRead: 100,
        });
      });

      it("settles one user's racing updates at the highest of them, each answer at least its own", async () => {
        await fill('a', 60);
        const asked = Array.from({ length: 30 }, (_, i) => ({
          delivered: (i * 7) % 60,
          read: (i * 11) % 30,
        }));
        const answers = await Promise.all(
          asked.map((cursors) => store.setCursors('a', 'bob', cursors, 1)),
        );
        answers.forEach((answer, i) => {
          const own = asked[i] as { delivered: number; read: number };
          expect(answer.read).toBeGreaterThanOrEqual(own.read);
          expect(answer.delivered).toBeGreaterThanOrEqual(Math.max(own.delivered, own.read));
          expect(answer.delivered).toBeGreaterThanOrEqual(answer.read);
        });
        expect(answers.some((answer) => answer.moved)).toBe(true);
        const highest = {
          delivered: Math.max(...asked.map((c) => Math.max(c.delivered, c.read))),
          read: Math.max(...asked.map((c) => c.read)),
        };
        expect(await store.receiptsFor('a', 'bob')).toEqual({ ...none, ...highest });
      });

      it('keeps cursors across a reopen', async () => {
        await fill('a', 5);
        await store.setCursors('a', 'bob', { delivered: 5, read: 4 }, 1);
        await store.close();
        store = await reopen();
        expect(await store.receiptsFor('a', 'bob')).toEqual({ ...none, delivered: 5, read: 4 });
      });
    });
  });
}
