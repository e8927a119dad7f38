import { useCallback, useRef } from 'react';
import { useEngine } from './useEngine.tsx';

/**
 * Marks a room read up to what the user has seen on screen: `markSeen(seq)` with the newest
 * sent message on screen. Never for a room not yet read from the device (its cursor is not
 * known), never while the page is hidden, and only when it raises the cursor (the engine
 * coalesces what it sends; this keeps a scroll from asking at every frame).
 */
export function useReadMarker(room: string, loaded: boolean, read: number): (seq: number) => void {
  const engine = useEngine();
  const marked = useRef(0);
  return useCallback(
    (seq: number) => {
      if (!loaded || document.visibilityState !== 'visible') return;
      const before = marked.current;
      if (seq <= Math.max(before, read)) return;
      marked.current = seq;
      // A failed write (storage full) is asked again at the next look, not reported: the
      // cursor only drives counts and receipts.
      engine.markRead(room, seq).catch(() => {
        if (marked.current === seq) marked.current = before;
      });
    },
    [engine, room, loaded, read],
  );
}
