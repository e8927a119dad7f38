import { useCallback, useState } from 'react';
import { useEngine } from './useEngine.tsx';

/** Where the last request for older history stands. */
export type LoadOlderState = 'idle' | 'loading' | 'failed';

/**
 * Loads a room's older history on demand. Only asked while the room has older history, so
 * the engine's "nothing loaded" (no connection, a refused request) is a failure, as is a
 * rejection (a timeout, a dropped link): both end in 'failed', from which `load` can be
 * called again, and no rejection is left unhandled.
 */
export function useLoadOlder(room: string): { state: LoadOlderState; load: () => void } {
  const engine = useEngine();
  const [state, setState] = useState<LoadOlderState>('idle');
  const load = useCallback(() => {
    setState('loading');
    engine.loadOlder(room).then(
      (loaded) => setState(loaded ? 'idle' : 'failed'),
      () => setState('failed'),
    );
  }, [engine, room]);
  return { state, load };
}
