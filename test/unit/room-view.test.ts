import { describe, expect, it } from 'vitest';
import { mergeSent } from '../../src/client/room-view.ts';
import type { SentMessage } from '../../src/client/types.ts';

function sent(seq: number, ts = seq * 10, id = `id-${seq}`): SentMessage {
  return { id, room: 'r', authorId: 'u-a', author: 'a', body: `${seq}`, status: 'sent', seq, ts };
}

const seqs = (messages: SentMessage[]) => messages.map((m) => m.seq);

describe('mergeSent', () => {
  const cases: [string, SentMessage[], SentMessage[], number[]][] = [
    [
      'appends a page that lands after everything',
      [sent(1), sent(2)],
      [sent(3), sent(4)],
      [1, 2, 3, 4],
    ],
    [
      'inserts a page below everything (older history)',
      [sent(5), sent(6)],
      [sent(1), sent(2)],
      [1, 2, 5, 6],
    ],
    ['fills a hole in the middle', [sent(1), sent(4)], [sent(3), sent(2)], [1, 2, 3, 4]],
    [
      'drops messages it already has',
      [sent(1), sent(2), sent(3)],
      [sent(2), sent(3), sent(4)],
      [1, 2, 3, 4],
    ],
    ['drops duplicates inside one page', [], [sent(2), sent(1), sent(2), sent(1)], [1, 2]],
    ['orders equal timestamps by id', [sent(1, 10, 'b')], [sent(2, 10, 'a')], [2, 1]],
    ['returns a copy for an empty page', [sent(1)], [], [1]],
  ];
  it.each(cases)('%s', (_name, existing, incoming, expected) => {
    const before = [...existing];
    expect(seqs(mergeSent(existing, incoming))).toEqual(expected);
    expect(existing).toEqual(before);
  });
});
