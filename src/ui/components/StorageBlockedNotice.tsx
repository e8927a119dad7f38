/**
 * Shown while this tab, a newer version of Ferry, waits to upgrade the database and a tab
 * of an older version still holds it open (a Ferry from before tabs let go by themselves,
 * or a background tab the browser froze, which cannot answer until it is shown again).
 * The upgrade goes on by itself, and the app appears, once that tab lets go; until then
 * the user must know why nothing happens and what to do. An alert: it is the whole page.
 */
export function StorageBlockedNotice() {
  return (
    <main className="boot" role="alert" data-testid="storage-blocked">
      <p>
        Ferry was updated, but another Ferry tab with the older version still has this device’s
        messages open. Switch to your other Ferry tabs, or close them, to finish the update. This
        tab goes on by itself once they let go; nothing is lost.
      </p>
    </main>
  );
}
