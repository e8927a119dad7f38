import type { BrowserContext, Page } from 'playwright-core';
import { OUTBOX_SYNC_TAG } from '../../../src/client/outbox-sync.ts';

/** The Background Sync tags the page's service worker registration holds. */
export function syncTags(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const registration = (await navigator.serviceWorker.getRegistration()) as
      | (ServiceWorkerRegistration & { sync?: { getTags(): Promise<string[]> } })
      | undefined;
    return (await registration?.sync?.getTags()) ?? [];
  });
}

/**
 * Fires the outbox sync in the context's service worker through the DevTools protocol
 * (`ServiceWorker.dispatchSyncEvent`), as the browser does when it retries. Chromium
 * retries a failed sync after minutes (its backoff starts at 5), which no test can wait
 * for. The session is opened from a blank page, not a Ferry one: no page of the app runs.
 */
export async function dispatchOutboxSync(
  context: BrowserContext,
  origin: string,
  lastChance = false,
): Promise<void> {
  const blank = await context.newPage();
  try {
    const cdp = await context.newCDPSession(blank);
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find(
          (registration) => registration.scopeURL.startsWith(origin) && !registration.isDeleted,
        );
        if (ours) resolve(ours.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.dispatchSyncEvent', {
      origin,
      registrationId: await registrationId,
      tag: OUTBOX_SYNC_TAG,
      lastChance,
    });
  } finally {
    await blank.close();
  }
}
