import { useEngineValue } from './useEngine.tsx';

/** How many messages wait in the outbox, across rooms. */
export function useOutboxCount(): number {
  return useEngineValue((engine) => engine.outboxCount);
}
