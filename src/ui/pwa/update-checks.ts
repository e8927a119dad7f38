/** A long-lived tab looks for a new version this often (browsers only do it on navigation). */
export const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

interface UpdateCheckTriggers {
  /** The page's window: `online` events and timers. */
  window: Pick<
    Window,
    'addEventListener' | 'removeEventListener' | 'setInterval' | 'clearInterval'
  >;
  document: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'>;
}

/**
 * Asks the browser to look for a new service worker when one is likely: back online, back
 * in front of the user, and every UPDATE_CHECK_INTERVAL_MS. Returns the disposer.
 * A failed check (offline, server down) changes nothing, so its rejection is dropped.
 */
export function watchForUpdates(
  registration: Pick<ServiceWorkerRegistration, 'update'>,
  triggers: UpdateCheckTriggers,
): () => void {
  const check = () => {
    registration.update().catch(() => undefined);
  };
  const onVisibility = () => {
    if (triggers.document.visibilityState === 'visible') check();
  };
  triggers.window.addEventListener('online', check);
  triggers.document.addEventListener('visibilitychange', onVisibility);
  const timer = triggers.window.setInterval(check, UPDATE_CHECK_INTERVAL_MS);
  return () => {
    triggers.window.removeEventListener('online', check);
    triggers.document.removeEventListener('visibilitychange', onVisibility);
    triggers.window.clearInterval(timer);
  };
}
