import { useCallback, useRef, useState } from 'react';
import type { RoomSnapshot } from '../../client/engine.ts';
import type { RowRange } from '../list-geometry.ts';
import { firstUnreadIndex, othersAfter } from '../read-state.ts';

export interface UnreadDivider {
  /** The message the "new messages" line sits above, or null while there is none. */
  id: string | null;
  /**
   * What is on screen now (`shown`, indexes into the messages; the newest sent seq among
   * them): places the line above messages that arrive unseen (see below).
   */
  look: (shown: RowRange | null, newestShownSeq: number | null, pageVisible: boolean) => void;
}

/**
 * The "new messages" line. It goes above the first message of another member past the read
 * cursor as it was when the room opened (read once, so the line does not move while the user
 * reads), and stays until the list is left. When nothing was unread then, it goes above the
 * first message that arrives unseen later (while the page was hidden or the reader scrolled
 * up); messages the reader watches arrive get none.
 */
export function useUnreadDivider(snapshot: RoomSnapshot, me: string | null): UnreadDivider {
  const { messages, loaded, receipts } = snapshot;
  // Null until the room has been read from the device: before that its cursor means nothing.
  const [opened, setOpened] = useState<{ read: number; id: string | null } | null>(null);
  if (opened === null && loaded) {
    const index = firstUnreadIndex(messages, receipts.read, me);
    setOpened({ read: receipts.read, id: messages[index]?.id ?? null });
  }
  /** The newest seq this list has shown while the page was visible. */
  const seenUpTo = useRef(0);

  const look = useCallback(
    (shown: RowRange | null, newestShownSeq: number | null, pageVisible: boolean) => {
      if (opened === null || opened.id !== null) return;
      // The cursor the join brings in (read on another device) counts too: a device that
      // opens a room for the first time gets its history, most of which was read elsewhere.
      const seen = Math.max(seenUpTo.current, opened.read, receipts.read);
      const index = firstUnreadIndex(messages, seen, me);
      const unread = messages[index];
      if (unread) {
        const allShown =
          pageVisible &&
          shown !== null &&
          index >= shown.first &&
          othersAfter(messages, shown.last, me) === 0;
        if (!allShown) {
          setOpened({ ...opened, id: unread.id });
          return;
        }
      }
      if (pageVisible && newestShownSeq !== null) {
        seenUpTo.current = Math.max(seen, newestShownSeq);
      }
    },
    [opened, messages, me, receipts.read],
  );

  return { id: opened?.id ?? null, look };
}
