/// <reference lib="webworker" />
// The service worker: precaches the app shell so that a reload in airplane mode renders
// the app (its history and outbox live in IndexedDB, not here), answers navigations to the
// app's own pages with the cached index.html, and sends the outbox on a Background Sync
// when no page is open. New versions wait until the page says the user accepted.
import { clientsClaim } from 'workbox-core';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { DEFAULT_DB_NAME } from '../client/engine-options.ts';
import { platformLocks } from '../client/locks.ts';
import { OUTBOX_SYNC_TAG, runOutboxSync } from '../client/outbox-sync.ts';
import {
  describeSyncOutcome,
  HOLD_WAIT_MS,
  LAST_CHANCE_HOLD_WAIT_MS,
  type SyncEvent,
  settleSyncEvent,
} from './outbox-sync-event.ts';
import { APP_PAGES, isSkipWaitingMessage } from './routes.ts';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// The app is one page (rooms live in the hash). Only its own paths get the shell: any other
// path is the server's (the CA certificate, the health check, the API), and answering it
// with index.html would hide what the server says, or that it cannot be reached.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { allowlist: APP_PAGES }));

// A worker that activates takes over the open pages at once: after the first install, so
// the first page already survives an offline reload; after an update, so the tabs switch
// together. An update only activates when the user accepted it (the message handler
// below) or once every tab of the old version is closed.
clientsClaim();

self.addEventListener('message', (event) => {
  // Sent by workbox-window's messageSkipWaiting() once the user accepted the update and
  // the page has nothing in flight (see src/ui/hooks/useServiceWorkerUpdate.ts, which
  // waits for src/ui/pwa/reload-gate.ts).
  if (isSkipWaitingMessage(event.data)) void self.skipWaiting();
});

// Messages queued offline go out once the network is back, open page or not: the app
// registers the sync (src/ui/pwa/background-sync.ts). The run sends under the profile's
// sender lock, and leaves the outbox to a live tab that holds it (src/client/outbox-sync.ts).
self.addEventListener('sync', (event) => {
  const sync = event as SyncEvent;
  if (sync.tag !== OUTBOX_SYNC_TAG) return;
  const lastChance = sync.lastChance;
  sync.waitUntil(
    runOutboxSync({
      dbName: DEFAULT_DB_NAME,
      url: self.location.origin,
      locks: platformLocks(),
      maxHoldWaitMs: lastChance ? LAST_CHANCE_HOLD_WAIT_MS : HOLD_WAIT_MS,
    }).then((outcome) => {
      // The one trace a run leaves (DevTools shows the worker's console), and what the
      // browser tests wait for.
      console.info(`[ferry] outbox sync: ${describeSyncOutcome(outcome)}`);
      settleSyncEvent(outcome, lastChance);
    }),
  );
});
