import { useConnection } from '../hooks/useConnection.ts';
import { useEngine } from '../hooks/useEngine.tsx';
import { useSecondsUntil } from '../hooks/useSecondsUntil.ts';
import { ConnectionIndicator } from './ConnectionIndicator.tsx';

/** ConnectionIndicator fed with the engine's live connection state and wired to retry it. */
export function LiveConnectionIndicator() {
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
