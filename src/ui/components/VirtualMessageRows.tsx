import { useVirtualizer } from '@tanstack/react-virtual';
import {
  type ReactNode,
  type Ref,
  type RefObject,
  useImperativeHandle,
  useLayoutEffect,
  useReducer,
} from 'react';
import type { LocalMessage } from '../../client/types.ts';
import type { VirtualRow } from './MessageItem.tsx';

const ESTIMATED_ROW_PX = 64;
const OVERSCAN_ROWS = 12;

/** What the list asks of the virtualiser beyond rendering. */
export interface VirtualRowsHandle {
  /**
   * Where row `index` starts within the list, in CSS pixels, measured or estimated, whether
   * or not it is rendered (to keep a row in place, or scroll to one, that is not).
   */
  rowStart(index: number): number | null;
  /**
   * The list moved the scroller itself (to keep a row in place): the virtualiser renders the
   * rows there from now on, not where it last saw a scroll event (which comes a frame later).
   * Without it, a virtualiser mounted in that commit renders and measures its first rows,
   * and their growth pushes the row that was just put in place off the screen.
   */
  scrolledTo(offset: number): void;
  /**
   * While true, the virtualiser leaves the scroll position alone as rows get measured: the
   * list keeps a row in place itself (after every commit, see `onCommit`). Its own
   * correction, when many rows are measured at once far from where it measured before
   * (older pages prepended), counts rows below the viewport as above it and runs away.
   */
  holdScroll(held: boolean): void;
}

interface VirtualMessageRowsProps {
  handle?: Ref<VirtualRowsHandle>;
  messages: readonly LocalMessage[];
  scroller: RefObject<HTMLDivElement | null>;
  /** Whether the reader is at the newest messages (kept there as rows get measured). */
  atBottom: RefObject<boolean>;
  /** After every commit of the rows (some may have been measured anew). */
  onCommit?: () => void;
  row: (message: LocalMessage, index: number, virtualRow: VirtualRow) => ReactNode;
}

/**
 * The rows of a long room: only those near the viewport are in the DOM. Its own module,
 * loaded the first time a room is long enough, so the virtualiser is not in the script a
 * first visit downloads.
 */
export default function VirtualMessageRows({
  handle,
  messages,
  scroller,
  atBottom,
  onCommit,
  row,
}: VirtualMessageRowsProps) {
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    // Where the list already is: the virtualiser scrolls there as it mounts.
    initialOffset: () => scroller.current?.scrollTop ?? 0,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    getItemKey: (index) => messages[index]?.id ?? index,
  });

  const [, renderAgain] = useReducer((renders: number) => renders + 1, 0);
  useImperativeHandle(
    handle,
    () => ({
      rowStart(index) {
        virtualizer.getTotalSize(); // brings the (lazily updated) measurements up to date
        return virtualizer.measurementsCache[index]?.start ?? null;
      },
      scrolledTo(offset) {
        virtualizer.scrollOffset = offset;
        // Its scroll event will read as nothing new: render the rows there now.
        renderAgain();
      },
      holdScroll(held) {
        virtualizer.shouldAdjustScrollPositionOnItemSizeChange = held ? () => false : undefined;
      },
    }),
    [virtualizer],
  );

  // A virtualised list grows as its rows are measured (estimates become real heights), and
  // growing content fires no scroll event: pin to the bottom again on every change of the
  // total height while the reader is there. (scrollToIndex re-measures over several frames
  // and, in a long room, never reached the newest message.)
  const totalSize = virtualizer.getTotalSize();
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && atBottom.current && totalSize > 0) element.scrollTop = element.scrollHeight;
  }, [scroller, atBottom, totalSize]);

  useLayoutEffect(() => {
    onCommit?.();
  });

  return (
    <ol className="message-list message-list-virtual" style={{ height: totalSize }}>
      {virtualizer.getVirtualItems().map((item) => {
        const message = messages[item.index];
        return message
          ? row(message, item.index, {
              index: item.index,
              ref: virtualizer.measureElement,
              style: { transform: `translateY(${item.start}px)` },
            })
          : null;
      })}
    </ol>
  );
}
