import { useComposerState } from '../hooks/useComposer.tsx';
import { useEngineValue } from '../hooks/useEngine.tsx';
import { useOutboxCount } from '../hooks/useOutboxCount.ts';
import { useServiceWorkerUpdate } from '../hooks/useServiceWorkerUpdate.ts';
import './pwa.css';

/**
 * "New version available — Reload". Mounted once for the whole app: it also registers the
 * service worker. It never reloads while outbox batches are on the wire; it says so. When
 * another tab's Reload switched versions while this tab's user was writing, it stays: the
 * page keeps running until they reload it.
 */
export function UpdatePrompt() {
  const status = useEngineValue((engine) => engine.connection.status);
  const outboxCount = useOutboxCount();
  const composer = useComposerState();
  const { phase, accept, dismiss } = useServiceWorkerUpdate(status, outboxCount, composer);
  if (phase.kind === 'idle') return null;

  return (
    <div
      className="update-banner"
      data-testid="update-banner"
      data-state={phase.kind}
      role="status"
    >
      {phase.kind === 'available' && (
        <>
          <p className="update-text">
            {phase.takenOver
              ? 'New version running in another tab: reload when you are ready'
              : 'New version available'}
          </p>
          <button
            type="button"
            className="button button-small"
            data-testid="update-reload"
            onClick={accept}
          >
            Reload
          </button>
          {!phase.takenOver && (
            <button
              type="button"
              className="button button-small button-quiet"
              data-testid="update-later"
              onClick={dismiss}
            >
              Later
            </button>
          )}
        </>
      )}
      {phase.kind === 'waiting' && (
        <p className="update-text">
          Updating once{' '}
          {phase.gate.outboxCount === 1 ? '1 message is' : `${phase.gate.outboxCount} messages are`}{' '}
          sent…
        </p>
      )}
      {phase.kind === 'reloading' && <p className="update-text">Updating Ferry…</p>}
    </div>
  );
}
