import { describe, expect, it } from 'vitest';
import { advanceCursor, hasGap } from '../../src/client/seq-cursor.ts';

describe('advanceCursor', () => {
  const cases: [string, number, number[], number[], number, number[]][] = [
    // name, cursor, ahead before, new seqs, cursor after, ahead after
    ['moves over contiguous seqs', 0, [], [1, 2, 3], 3, []],
    ['keeps seqs past a gap aside', 2, [], [5, 6], 2, [5, 6]],
    ['closes a gap and moves over the island behind it', 2, [5, 6], [3, 4], 6, []],
    ['ignores seqs it already covers', 5, [], [1, 5, 3], 5, []],
    ['takes seqs in any order', 0, [], [3, 1, 2], 3, []],
    ['closes part of a gap', 1, [4, 7], [2, 3], 4, [7]],
  ];
  it.each(cases)('%s', (_name, cursor, ahead, seqs, cursorAfter, aheadAfter) => {
    const next = advanceCursor({ cursor, ahead: new Set(ahead) }, seqs);
    expect(next.cursor).toBe(cursorAfter);
    expect([...next.ahead].sort((a, b) => a - b)).toEqual(aheadAfter);
    expect(hasGap(next)).toBe(aheadAfter.length > 0);
  });

  it('returns the same state when nothing new arrived, so no one is notified', () => {
    const state = { cursor: 3, ahead: new Set([9]) };
    expect(advanceCursor(state, [2, 9])).toBe(state);
  });
});
