// @vitest-environment happy-dom
import { renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { VirtualRowsHandle } from '../../src/ui/components/VirtualMessageRows.tsx';
import { useRowAnchor } from '../../src/ui/hooks/useRowAnchor.ts';

/**
 * A scroller holding a virtualised list whose message `m` starts at `start` px: where the
 * row is comes from `virtualStart`, so no layout is needed.
 */
function setup(start: { value: number }) {
  const scroller = document.createElement('div');
  const list = document.createElement('ol');
  list.className = 'message-list';
  scroller.append(list);
  let top = 0;
  Object.defineProperty(scroller, 'scrollTop', {
    get: () => top,
    set: (value: number) => {
      top = value;
    },
  });
  // The list starts at the scroller's content top: on screen, at 0 - scrollTop.
  list.getBoundingClientRect = () => ({ top: -top }) as DOMRect;
  scroller.getBoundingClientRect = () => ({ top: 0 }) as DOMRect;
  const rows = { holdScroll: vi.fn(), scrolledTo: vi.fn(), rowStart: () => null };
  const { result } = renderHook(() =>
    useRowAnchor({
      scroller: { current: scroller },
      virtualRows: { current: rows as unknown as VirtualRowsHandle },
      virtualStart: (id) => (id === 'm' ? start.value : null),
      atBottom: { current: false },
      positioned: { current: true },
    }),
  );
  return { scroller, rows, anchor: result.current };
}

describe('keeping the row being read in place', () => {
  it('puts the row back where it was when rows above it are measured', () => {
    const start = { value: 1_000 };
    const { scroller, anchor } = setup(start);
    scroller.scrollTop = 900;
    anchor.restore({ id: 'm', offsetPx: 100, row: false });
    start.value = 1_300; // rows above it grew as they were measured
    anchor.rowsCommitted();
    expect(scroller.scrollTop).toBe(1_200);
  });

  it('lets go when the reader scrolled before the scroll event came, instead of undoing it', () => {
    const start = { value: 1_000 };
    const { scroller, rows, anchor } = setup(start);
    scroller.scrollTop = 900;
    anchor.restore({ id: 'm', offsetPx: 100, row: false });
    // A flick to the top; the rows commit (a measurement) before its scroll event.
    scroller.scrollTop = 0;
    start.value = 1_300;
    anchor.rowsCommitted();
    expect(scroller.scrollTop).toBe(0);
    expect(rows.holdScroll).toHaveBeenLastCalledWith(false);
  });
});
