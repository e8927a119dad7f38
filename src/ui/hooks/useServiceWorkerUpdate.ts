import { useRegisterSW } from 'virtual:pwa-register/react';
import { useEffect, useRef, useState } from 'react';
import type { ConnectionStatus } from '../../client/connection.ts';
import type { ComposerState } from '../composer-activity.ts';
import { watchControllerReplacement } from '../pwa/controller-change.ts';
import { reloadGate } from '../pwa/reload-gate.ts';
import { watchForUpdates } from '../pwa/update-checks.ts';
import { decideUpdate, type UpdatePhase } from '../pwa/update-decision.ts';

interface ServiceWorkerUpdate {
  phase: UpdatePhase;
  accept(): void;
  dismiss(): void;
}

/**
 * Registers the service worker (workbox-window through vite-plugin-pwa) and runs the
 * update flow: a waiting worker is offered to the user; once accepted, the page switches
 * only when nothing is in flight (see reload-gate.ts), then reloads. Other tabs follow
 * unless their user is writing (see update-decision.ts).
 */
export function useServiceWorkerUpdate(
  status: ConnectionStatus,
  outboxCount: number,
  composer: ComposerState,
): ServiceWorkerUpdate {
  const [registration, setRegistration] = useState<ServiceWorkerRegistration | null>(null);
  // The new worker controls the page (after our skip-waiting, or another tab's).
  const [controllerChanged, setControllerChanged] = useState(false);
  const [accepted, setAccepted] = useState(false);
  const [deferred, setDeferred] = useState(false);
  const skipWaitingSent = useRef(false);
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW({
    onRegisteredSW: (_url, registered) => setRegistration(registered ?? null),
    // Replaces vite-plugin-pwa's immediate reload, which would ignore the outbox: the
    // controllerchange watcher below and the gate decide when to reload.
    onNeedReload: () => undefined,
    // Registering again while offline fails its update check; the worker in place keeps
    // serving the app, so there is nothing to tell the user, only the console.
    onRegisterError: (error: unknown) => console.warn('Service worker registration failed', error),
  });

  useEffect(() => {
    if (!registration) return;
    return watchForUpdates(registration, { window, document });
  }, [registration]);

  useEffect(() => {
    if (!('serviceWorker' in navigator)) return;
    return watchControllerReplacement(navigator.serviceWorker, () => setControllerChanged(true));
  }, []);

  // A reconnect often follows a server restart, which is when new versions appear. (The
  // first connect needs no check: registering just did one.)
  const connects = useRef(0);
  const registrationRef = useRef(registration);
  registrationRef.current = registration;
  useEffect(() => {
    if (status !== 'connected') return;
    connects.current += 1;
    if (connects.current > 1) registrationRef.current?.update().catch(() => undefined);
  }, [status]);

  const { phase, action } = decideUpdate({
    offered: needRefresh,
    accepted,
    takenOver: controllerChanged,
    deferred,
    gate: reloadGate({ status, outboxCount, composer, acceptedHere: accepted }),
  });
  useEffect(() => {
    if (action === 'reload') {
      window.location.reload();
    } else if (action === 'defer') {
      setDeferred(true);
    } else if (action === 'skip-waiting' && !skipWaitingSent.current) {
      skipWaitingSent.current = true;
      void updateServiceWorker();
    }
  }, [action, updateServiceWorker]);

  return {
    phase,
    accept: () => setAccepted(true),
    dismiss: () => setNeedRefresh(false),
  };
}
