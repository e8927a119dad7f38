import { OUTBOX_SYNC_TAG } from '../../client/outbox-sync.ts';

/** The part of a registration Background Sync adds (Chromium only; not in TypeScript's DOM lib). */
interface SyncRegistration {
  sync?: { register(tag: string): Promise<void> };
}

/**
 * Asks the service worker to send the outbox once the network is back, even if every page
 * of Ferry is closed by then (src/sw/sw.ts answers the `sync` event). Registering a tag that
 * is already registered does nothing more, so this is cheap to call on every message queued
 * offline. Where Background Sync is missing (Safari, Firefox) or no worker is active yet,
 * it does nothing: the outbox then goes out on the next open (README, "Background Sync").
 * Never rejects.
 */
export async function requestOutboxSync(
  container: ServiceWorkerContainer | undefined = globalThis.navigator?.serviceWorker,
): Promise<boolean> {
  try {
    const registration = (await container?.getRegistration()) as
      | (ServiceWorkerRegistration & SyncRegistration)
      | undefined;
    if (!registration?.active || !registration.sync) return false;
    await registration.sync.register(OUTBOX_SYNC_TAG);
    return true;
  } catch {
    // A permission withheld, say: the next open sends instead.
    return false;
  }
}
