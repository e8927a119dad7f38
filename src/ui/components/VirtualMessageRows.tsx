import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, type RefObject, useLayoutEffect } from 'react';
import type { LocalMessage } from '../../client/types.ts';
import type { VirtualRow } from './MessageItem.tsx';

const ESTIMATED_ROW_PX = 64;
const OVERSCAN_ROWS = 12;

interface VirtualMessageRowsProps {
  messages: readonly LocalMessage[];
  scroller: RefObject<HTMLDivElement | null>;
  /** Whether the reader is at the newest messages (kept there as rows get measured). */
  atBottom: RefObject<boolean>;
  row: (message: LocalMessage, index: number, virtualRow: VirtualRow) => ReactNode;
}

/**
 * The rows of a long room: only those near the viewport are in the DOM. Its own module,
 * loaded the first time a room is long enough, so the virtualiser is not in the script a
 * first visit downloads.
 */
export default function VirtualMessageRows({
  messages,
  scroller,
  atBottom,
  row,
}: VirtualMessageRowsProps) {
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: OVERSCAN_ROWS,
    getItemKey: (index) => messages[index]?.id ?? index,
  });

  // A virtualised list grows as its rows are measured (estimates become real heights), and
  // growing content fires no scroll event: pin to the bottom again on every change of the
  // total height while the reader is there. (scrollToIndex re-measures over several frames
  // and, in a long room, never reached the newest message.)
  const totalSize = virtualizer.getTotalSize();
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && atBottom.current && totalSize > 0) element.scrollTop = element.scrollHeight;
  }, [scroller, atBottom, totalSize]);

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
