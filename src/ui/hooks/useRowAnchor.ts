import { type RefObject, useCallback, useMemo, useRef } from 'react';
import type { VirtualRowsHandle } from '../components/VirtualMessageRows.tsx';
import { firstShownMessage, messageTop, type ScrollAnchorPoint } from '../list-geometry.ts';

interface RowAnchorInput {
  scroller: RefObject<HTMLDivElement | null>;
  /** The virtualised rows, while the list has them. */
  virtualRows: RefObject<VirtualRowsHandle | null>;
  /** Where a virtualised message's row starts within the list, rendered or not. */
  virtualStart: (id: string) => number | null;
  /** The reader is at the newest messages: the list follows them, nothing is anchored. */
  atBottom: RefObject<boolean>;
  /** The list has been scrolled to where the room opens: before that, nothing is anchored. */
  positioned: RefObject<boolean>;
}

export interface RowAnchor {
  /** Before a commit (for ScrollAnchor): the first message on screen, and where it is. */
  capture: () => ScrollAnchorPoint | null;
  /** After it: puts that message back where it was, and holds it there (see `hold`). */
  restore: (anchor: ScrollAnchorPoint) => void;
  /**
   * Holds a message where `anchor` says across the virtualised rows' next commits, in which
   * they get measured (each row measured above it would move it) or first mount (while the
   * list showed its newest rows plainly), until the user scrolls.
   */
  hold: (anchor: ScrollAnchorPoint) => void;
  /** Stops holding (the user scrolled, or went to the bottom). */
  release: () => void;
  /** After every commit of the virtualised rows. */
  rowsCommitted: () => void;
  /** On every scroll: one to somewhere other than where the list put it is the user's. */
  scrolled: () => void;
}

/**
 * Keeps the message the reader is looking at in place when rows come or go above it (older
 * pages, a trimmed window) and while virtualised rows get measured, in plain and virtualised
 * lists alike.
 */
export function useRowAnchor({
  scroller,
  virtualRows,
  virtualStart,
  atBottom,
  positioned,
}: RowAnchorInput): RowAnchor {
  const held = useRef<{ anchor: ScrollAnchorPoint; scrollTop: number } | null>(null);

  /** Scrolls so that `anchor`'s message is where it says (unless the reader is at the bottom). */
  const place = useCallback(
    (anchor: ScrollAnchorPoint) => {
      const element = scroller.current;
      if (!element || atBottom.current) return;
      const top = messageTop(element, anchor.id, virtualStart, anchor.row);
      if (top === null) return;
      const before = element.scrollTop;
      if (Math.abs(top - anchor.offsetPx - before) < 1) return;
      element.scrollTop = top - anchor.offsetPx;
      // Only when it moved: a target past the end is clamped, and asking the rows to render
      // again for nothing would ask again after that render, and so on.
      if (Math.abs(element.scrollTop - before) >= 1) {
        virtualRows.current?.scrolledTo(element.scrollTop);
      }
    },
    [scroller, virtualRows, virtualStart, atBottom],
  );

  const hold = useCallback(
    (anchor: ScrollAnchorPoint) => {
      const element = scroller.current;
      if (!element || atBottom.current) return;
      held.current = { anchor, scrollTop: element.scrollTop };
      virtualRows.current?.holdScroll(true);
    },
    [scroller, virtualRows, atBottom],
  );

  const release = useCallback(() => {
    held.current = null;
    virtualRows.current?.holdScroll(false);
  }, [virtualRows]);

  const rowsCommitted = useCallback(() => {
    const element = scroller.current;
    if (!held.current || !element) return;
    if (atBottom.current) return release();
    // Moved since the hold last placed it, and not by the hold: the reader scrolled, and
    // this commit came before the scroll event could say so. Placing the row again would
    // undo their scroll (a flick to the top snapped back, and no older page asked for).
    if (Math.abs(element.scrollTop - held.current.scrollTop) >= 1) return release();
    // Rows mounted since (the virtualiser loaded after the list opened) are held too.
    virtualRows.current?.holdScroll(true);
    place(held.current.anchor);
    held.current.scrollTop = element.scrollTop;
  }, [scroller, virtualRows, atBottom, place, release]);

  const scrolled = useCallback(() => {
    const element = scroller.current;
    if (element && held.current && Math.abs(element.scrollTop - held.current.scrollTop) >= 1) {
      release();
    }
  }, [scroller, release]);

  const capture = useCallback((): ScrollAnchorPoint | null => {
    const element = scroller.current;
    return element && positioned.current && !atBottom.current ? firstShownMessage(element) : null;
  }, [scroller, positioned, atBottom]);

  const restore = useCallback(
    (anchor: ScrollAnchorPoint) => {
      place(anchor);
      hold(anchor);
    },
    [place, hold],
  );

  return useMemo(
    () => ({ capture, restore, hold, release, rowsCommitted, scrolled }),
    [capture, restore, hold, release, rowsCommitted, scrolled],
  );
}
