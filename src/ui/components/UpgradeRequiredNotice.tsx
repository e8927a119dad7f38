/**
 * Shown once the server says this build is too old to talk to it. Nothing typed is lost:
 * the outbox stays on the device and goes out after the reload, from the newer build. Pure:
 * the caller decides how to reload.
 */
export function UpgradeRequiredNotice({ onReload }: { onReload: () => void }) {
  return (
    <div className="update-banner" role="alert" data-testid="upgrade-required">
      <p className="update-text">
        A new version of Ferry is needed. Messages waiting to send are kept, and go out after the
        reload.
      </p>
      <button type="button" className="button button-small" onClick={onReload}>
        Reload
      </button>
    </div>
  );
}
