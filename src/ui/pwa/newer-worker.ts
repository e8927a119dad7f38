/**
 * The longest a reload waits for the newer worker to take over before it goes on anyway.
 * In headless Chromium on a busy 2-core machine `registration.update()` alone took 2.5 to
 * 6 s while the newer tab was loading (the script itself came in 60 ms); a user sees
 * "reloading…" meanwhile. Past it, the reload brings this version back, which says so and
 * offers a Reload that tries again.
 */
export const TAKEOVER_WAIT_MS = 20_000;

/**
 * Makes a newer service worker, installed or installing, take over before this tab
 * reloads because a newer Ferry upgraded the database. Without it, the old worker, still
 * in control while the new one waits, would serve this old version again, which cannot
 * open the upgraded database. The usual rule, a new version waits for the user's Reload
 * (docs/pwa.md, "Updates"), does not hold here: the newer version already runs, and the old
 * one can no longer work in any tab. Resolves once done, when there is no newer worker, or
 * after TAKEOVER_WAIT_MS; never rejects.
 */
export async function activateNewerWorker(
  container: ServiceWorkerContainer | undefined = globalThis.navigator?.serviceWorker,
): Promise<void> {
  if (!container) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, TAKEOVER_WAIT_MS);
  });
  await Promise.race([takeOver(container).catch(() => undefined), deadline]);
  clearTimeout(timer);
}

async function takeOver(container: ServiceWorkerContainer): Promise<void> {
  const registration = await container.getRegistration();
  if (!registration) return;
  // Offline, the check fails; whatever is already installed may still take over.
  await registration.update().catch(() => undefined);
  const next = registration.waiting ?? registration.installing;
  if (!next) return;
  const takenOver = new Promise<void>((resolve) => {
    container.addEventListener('controllerchange', () => resolve(), { once: true });
  });
  await installed(next);
  // What workbox-window's messageSkipWaiting() posts; src/sw/sw.ts answers it.
  next.postMessage({ type: 'SKIP_WAITING' });
  await takenOver;
}

/**
 * A reload meant to reach a newer version: the one that upgraded the database, or the one
 * a server that refuses this build (`upgrade_required`) expects. A plain reload would be
 * answered by the worker that controls this page, with this same old version.
 */
export async function reloadIntoNewerVersion(
  reload: () => void = () => window.location.reload(),
  container: ServiceWorkerContainer | undefined = globalThis.navigator?.serviceWorker,
): Promise<void> {
  await activateNewerWorker(container);
  reload();
}

/** Resolves once `worker` is installed (or further); it may still be installing. */
function installed(worker: ServiceWorker): Promise<void> {
  if (worker.state !== 'installing') return Promise.resolve();
  return new Promise((resolve) => {
    const changed = () => {
      if (worker.state === 'installing') return;
      worker.removeEventListener('statechange', changed);
      resolve();
    };
    worker.addEventListener('statechange', changed);
  });
}
