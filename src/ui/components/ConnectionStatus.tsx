import { useConnection } from '../hooks/useConnection.ts';
import { useEngine } from '../hooks/useEngine.tsx';
import { useSecondsUntil } from '../hooks/useSecondsUntil.ts';
import { ConnectionIndicator } from './ConnectionIndicator.tsx';

/** The engine's connection state, shown by ConnectionIndicator. */
export function ConnectionStatus() {
  const engine = useEngine();
  const state = useConnection();
  const secondsToRetry = useSecondsUntil(
    state.status === 'reconnecting' ? state.nextRetryAt : null,
  );
  return (
    <ConnectionIndicator
      state={state}
      secondsToRetry={secondsToRetry}
      onRetryNow={() => engine.reconnectNow()}
    />
  );
}
