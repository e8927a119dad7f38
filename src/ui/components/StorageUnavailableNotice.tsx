import { NewerDatabaseError } from '../../client/local-db.ts';

/**
 * Shown instead of the app when its database cannot be opened at all. Data saved by a newer
 * version is the one case with a safe way out (a reload may fetch that version), and the
 * one where blaming site data would be harmful: a user who cleared it would lose the
 * outbox. Pure: the caller decides how to reload.
 */
export function StorageUnavailableNotice({
  error,
  onReload,
}: {
  error: unknown;
  onReload: () => void;
}) {
  if (error instanceof NewerDatabaseError) {
    return (
      <main
        className="boot"
        role="alert"
        data-testid="storage-unavailable"
        data-reason="newer_version"
      >
        <div>
          <p>
            This copy of Ferry is older than the data saved on this device by a newer version.
            Reload to get the newer version; your unsent messages are kept.
          </p>
          <button type="button" className="button boot-action" onClick={onReload}>
            Reload
          </button>
        </div>
      </main>
    );
  }
  const details = error instanceof Error ? error.message : String(error);
  return (
    <main className="boot" role="alert" data-testid="storage-unavailable" data-reason="unavailable">
      <p>
        Ferry cannot open its storage (IndexedDB) on this device, and cannot keep messages without
        it. Private browsing or blocked site data can cause this. Details: {details}
      </p>
    </main>
  );
}
