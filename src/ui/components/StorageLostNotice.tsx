import type { StorageLoss } from '../../client/engine.ts';

const MESSAGES: Record<StorageLoss, string> = {
  // A newer Ferry in another tab upgraded the database; this tab let go so it could.
  version_change: 'Ferry was updated in another tab — reload to continue',
  // The browser closed the database by itself (site data cleared, disk trouble).
  closed: 'Storage was closed by the browser — reload',
};

/**
 * Shown instead of the app once its database is gone: nothing can be saved any more, and a
 * room that still looked connected would take messages it cannot keep. Only a reload
 * helps. Pure: the caller decides how to reload, and whether to ask at all
 * (src/ui/storage-loss-decision.ts).
 */
export function StorageLostNotice({ loss, onReload }: { loss: StorageLoss; onReload: () => void }) {
  return (
    <main className="boot" role="alert" data-testid="storage-lost" data-reason={loss}>
      <div>
        <p>{MESSAGES[loss]}</p>
        {loss === 'version_change' && (
          // Shown only to a tab whose user was writing or sending (an idle one reloads by
          // itself): the draft is in localStorage and the outbox is in the database.
          <p>Nothing is lost: unsent messages and what you were typing come back after it.</p>
        )}
        <button type="button" className="button boot-action" onClick={onReload}>
          Reload
        </button>
      </div>
    </main>
  );
}
