import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newRoomMeta } from '../../src/client/local-db.ts';
import { type CursorPatch, dueReceipt, raiseCursors } from '../../src/client/room-meta.ts';
import { roomIdFromName } from '../../src/client/room-names.ts';
import { joinAckSchema } from '../../src/shared/schemas.ts';

const fresh = () => newRoomMeta('lobby', 'lobby', 0);

describe('read cursors on the device', () => {
  it('never moves a cursor backwards', () => {
    const meta = raiseCursors(fresh(), { read: 40, othersRead: 30 });
    const later = raiseCursors(meta, { read: 12, othersRead: 31, othersDelivered: 5 });
    expect(later).toMatchObject({ read: 40, othersRead: 31, othersDelivered: 5 });
  });

  it('answers the same entry when nothing moved, so nothing is written', () => {
    const meta = raiseCursors(fresh(), { read: 7 });
    expect(raiseCursors(meta, { read: 7, othersRead: 0 })).toBe(meta);
  });

  it('ends at the highest of each cursor whatever order and repeats the updates come in', () => {
    const cursor = fc.constantFrom(
      'read',
      'readAcked',
      'deliveredAcked',
      'othersDelivered',
      'othersRead',
    );
    const patch = fc.dictionary(cursor, fc.nat(1_000)) as fc.Arbitrary<CursorPatch>;
    // Every patch heard twice, in any order: repeats and late ones change nothing.
    const heard = fc
      .array(patch, { maxLength: 20 })
      .chain((patches) =>
        fc.tuple(
          fc.constant(patches),
          fc.shuffledSubarray([...patches, ...patches], { minLength: patches.length * 2 }),
        ),
      );
    fc.assert(
      fc.property(heard, ([patches, scrambled]) => {
        const inOrder = patches.reduce(raiseCursors, fresh());
        expect(scrambled.reduce(raiseCursors, fresh())).toEqual(inOrder);
        for (const name of ['read', 'othersRead'] as const) {
          expect(inOrder[name]).toBe(Math.max(0, ...patches.map((p) => p[name] ?? 0)));
        }
      }),
    );
  });

  it('has a receipt due while read or held is above what the server acknowledged', () => {
    expect(dueReceipt(fresh(), 0)).toBeNull();
    expect(dueReceipt(fresh(), 12)).toEqual({ delivered: 12, read: 0 });
    const acked = raiseCursors(fresh(), { read: 5, readAcked: 5, deliveredAcked: 12 });
    expect(dueReceipt(acked, 12)).toBeNull();
    expect(dueReceipt(raiseCursors(acked, { read: 9 }), 12)).toEqual({ delivered: 12, read: 9 });
  });

  it('counts what was read elsewhere as held here too (the server keeps delivered >= read)', () => {
    expect(dueReceipt(raiseCursors(fresh(), { read: 30 }), 10)).toEqual({
      delivered: 30,
      read: 30,
    });
  });
});

describe('a join answered by a node of the release before', () => {
  it('is a join all the same, without a name or receipts (protocol 3, a rolling deploy)', () => {
    const ack = joinAckSchema.parse({ ok: true, room: 'lobby', latestSeq: 7 });
    expect(ack).toEqual({ ok: true, room: 'lobby', latestSeq: 7 });
  });
});

describe('a public room named by its user', () => {
  it('makes a readable id of the name: lower case, words joined by dashes', () => {
    expect(roomIdFromName('  Trip to Oslo! ')).toBe('trip-to-oslo');
    expect(roomIdFromName('Café Crème')).toBe('cafe-creme');
    expect(roomIdFromName('team_42')).toBe('team_42');
  });

  it('answers nothing for a name with no letter or digit, and at most 64 characters', () => {
    expect(roomIdFromName('!!! ???')).toBe('');
    expect(roomIdFromName('a'.repeat(100))).toHaveLength(64);
    expect(roomIdFromName(`${'a'.repeat(63)} b`)).toBe('a'.repeat(63));
  });
});
