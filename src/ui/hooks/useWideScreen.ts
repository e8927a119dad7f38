import { useSyncExternalStore } from 'react';

/** Wide enough for the room list beside the room (a tablet or a desktop, not a phone). */
const WIDE = '(min-width: 48rem)';

function query(): MediaQueryList | null {
  return typeof window.matchMedia === 'function' ? window.matchMedia(WIDE) : null;
}

function subscribe(listener: () => void): () => void {
  const list = query();
  list?.addEventListener('change', listener);
  return () => list?.removeEventListener('change', listener);
}

/**
 * Whether the screen is wide enough to show the room list beside the room. A phone shows
 * one or the other; the choice is made in the render (not by CSS alone) so that a phone's
 * page holds one list, the one on screen.
 */
export function useWideScreen(): boolean {
  return useSyncExternalStore(subscribe, () => query()?.matches ?? true);
}
