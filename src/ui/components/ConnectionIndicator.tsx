import type { ConnectionState } from '../../client/connection.ts';

/** The state of the link in words, as the user reads it. */
function describeConnection(state: ConnectionState): string {
  switch (state.status) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'disconnected':
      return `Disconnected (${state.reason})`;
    case 'reconnecting':
      return `Reconnecting (attempt ${state.attempt})…`;
    case 'offline':
      return 'Offline — messages will be sent when you are back online';
    case 'failed':
      return `Can't reach the server: ${state.reason}`;
    case 'upgrade_required':
      return 'A new version of Ferry is needed — reload to continue';
  }
}

interface ConnectionIndicatorProps {
  state: ConnectionState;
  /** Whole seconds until the next automatic attempt, when one is scheduled. */
  secondsToRetry: number | null;
  onRetryNow: () => void;
}

/**
 * Colour and words for every connection state, the countdown to the next attempt, and a
 * "Retry now" button whenever the link is down and retrying could help. Pure: it renders what it is given.
 */
export function ConnectionIndicator({
  state,
  secondsToRetry,
  onRetryNow,
}: ConnectionIndicatorProps) {
  return (
    <div className="connection">
      <div className="connection-text">
        {/* Only the words are live: screen readers should not re-read the button on each change. */}
        <p
          className="connection-status"
          data-testid="connection-status"
          data-state={state.status}
          aria-live="polite"
        >
          <span className="connection-dot" aria-hidden="true" />
          {describeConnection(state)}
        </p>
        {/* Outside the live region too: a new round-trip time every few seconds is not news. */}
        {state.status === 'connected' && state.rttMs !== null && (
          <span className="connection-rtt" data-testid="connection-rtt">
            {' '}
            · {Math.round(state.rttMs)} ms
          </span>
        )}
        {/* Outside the live region: a ticking countdown would be read out every second. */}
        {secondsToRetry !== null && secondsToRetry > 0 && (
          <span className="connection-countdown" data-testid="retry-countdown">
            {' '}
            · next try in {secondsToRetry} s
          </span>
        )}
      </div>
      {/* Retrying cannot help a link that only a newer build can open: the notice offers Reload. */}
      {state.status !== 'connected' && state.status !== 'upgrade_required' && (
        <button
          type="button"
          className="button button-small"
          data-testid="retry-now"
          onClick={onRetryNow}
        >
          Retry now
        </button>
      )}
    </div>
  );
}
