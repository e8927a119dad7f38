import { useCallback, useRef, useState } from 'react';
import { useEngine } from './useEngine.tsx';

/** Where the last request for older history stands. */
export type LoadOlderState = 'idle' | 'loading' | 'failed';

/**
 * After a failed page, scrolling near the top asks again no sooner than this: offline, every
 * frame of a drag at the top would otherwise ask (and the button's label flicker).
 */
export const RETRY_NEAR_TOP_AFTER_MS = 2_000;

export interface LoadOlder {
  state: LoadOlderState;
  /** The button: asks now, unless a request is in flight. */
  load: () => void;
  /**
   * The reader is near the top: asks unless a request is in flight or the last one failed
   * and the user has not scrolled since (see `scrolled`).
   */
  loadNearTop: () => void;
  /** The user scrolled: `loadNearTop` may try again after a failure. */
  scrolled: () => void;
}

/**
 * Loads a room's older history, on demand: from the button or as the reader nears the top,
 * one request at a time. Only asked while the room has older history, so the engine's
 * "nothing loaded" (no connection, a refused request) is a failure, as is a rejection (a
 * timeout, a dropped link): both end in 'failed', from which `load` can be called again, and
 * no rejection is left unhandled.
 */
export function useLoadOlder(room: string, now: () => number = Date.now): LoadOlder {
  const engine = useEngine();
  const [state, setState] = useState<LoadOlderState>('idle');
  const inFlight = useRef(false);
  /** When the last request failed, while scrolling near the top must not ask again. */
  const failedAt = useRef<number | null>(null);

  const load = useCallback(() => {
    if (inFlight.current) return;
    inFlight.current = true;
    failedAt.current = null;
    setState('loading');
    const settle = (loaded: boolean) => {
      inFlight.current = false;
      failedAt.current = loaded ? null : now();
      setState(loaded ? 'idle' : 'failed');
    };
    engine.loadOlder(room).then(settle, () => settle(false));
  }, [engine, room, now]);

  const loadNearTop = useCallback(() => {
    if (failedAt.current === null) load();
  }, [load]);

  const scrolled = useCallback(() => {
    const failed = failedAt.current;
    if (failed !== null && now() - failed >= RETRY_NEAR_TOP_AFTER_MS) failedAt.current = null;
  }, [now]);

  return { state, load, loadNearTop, scrolled };
}
