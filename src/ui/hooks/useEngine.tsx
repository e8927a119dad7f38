import { createContext, type ReactNode, use, useCallback, useSyncExternalStore } from 'react';
import type { Engine } from '../../client/engine.ts';

const EngineContext = createContext<Engine | null>(null);

/** Makes one engine available to every hook below it. */
export function EngineProvider({ engine, children }: { engine: Engine; children: ReactNode }) {
  return <EngineContext value={engine}>{children}</EngineContext>;
}

/** The engine from the nearest EngineProvider. */
export function useEngine(): Engine {
  const engine = use(EngineContext);
  if (!engine) throw new Error('useEngine needs an <EngineProvider> above it');
  return engine;
}

/**
 * Reads one value of the engine and re-renders when it changes. `read` must return the same
 * reference until something changed, as the engine's getters do.
 */
export function useEngineValue<T>(read: (engine: Engine) => T): T {
  const engine = useEngine();
  // The engine's `subscribe` is a method: it has to be called on the engine.
  const subscribe = useCallback((listener: () => void) => engine.subscribe(listener), [engine]);
  return useSyncExternalStore(subscribe, () => read(engine));
}
