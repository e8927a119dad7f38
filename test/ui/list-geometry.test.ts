import { describe, expect, it } from 'vitest';
import { type Span, visibleRows } from '../../src/ui/list-geometry.ts';

/** Rows of the given heights, stacked from `top`. */
function stacked(heights: number[], top = 0): Span[] {
  let y = top;
  return heights.map((height) => {
    const span = { top: y, bottom: y + height };
    y += height;
    return span;
  });
}

const tenRows = stacked(Array.from({ length: 10 }, () => 100));

describe('visibleRows', () => {
  it.each([
    ['rows wholly inside', { top: 100, bottom: 300 }, { first: 1, last: 2 }],
    ['a row partly above and one partly below', { top: 150, bottom: 350 }, { first: 1, last: 3 }],
    ['one row larger than the viewport', { top: 420, bottom: 480 }, { first: 4, last: 4 }],
    ['the last rows', { top: 900, bottom: 1_200 }, { first: 9, last: 9 }],
    ['the first rows', { top: -50, bottom: 120 }, { first: 0, last: 1 }],
  ])('finds %s', (_case, viewport, expected) => {
    expect(visibleRows(tenRows.length, (i) => tenRows[i] as Span, viewport)).toEqual(expected);
  });

  it('counts a row that only touches an edge as not shown', () => {
    expect(
      visibleRows(tenRows.length, (i) => tenRows[i] as Span, { top: 200, bottom: 400 }),
    ).toEqual({
      first: 2,
      last: 3,
    });
  });

  it('finds none below the last row, above the first, or in an empty list', () => {
    const spanOf = (i: number) => tenRows[i] as Span;
    expect(visibleRows(10, spanOf, { top: 1_000, bottom: 1_300 })).toBeNull();
    expect(visibleRows(10, spanOf, { top: -300, bottom: 0 })).toBeNull();
    expect(visibleRows(0, spanOf, { top: 0, bottom: 300 })).toBeNull();
  });

  it('finds rows of different heights, measuring a few dozen of 100,000', () => {
    const rows = stacked(
      Array.from({ length: 100_000 }, (_, i) => 40 + (i % 7) * 10),
      -1_000_000,
    );
    let measured = 0;
    const spanOf = (i: number) => {
      measured++;
      return rows[i] as Span;
    };
    const range = visibleRows(rows.length, spanOf, { top: 0, bottom: 640 });
    if (!range) throw new Error('no rows found');
    expect((rows[range.first] as Span).bottom).toBeGreaterThan(0);
    expect((rows[range.first - 1] as Span).bottom).toBeLessThanOrEqual(0);
    expect((rows[range.last] as Span).top).toBeLessThan(640);
    expect((rows[range.last + 1] as Span).top).toBeGreaterThanOrEqual(640);
    expect(measured).toBeLessThan(50);
  });
});
