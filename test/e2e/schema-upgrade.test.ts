// A newer Ferry, whose database version is one higher (a test build: see
// src/client/local-db.ts), opens beside tabs of the older one in the same profile. The
// older tabs let go of the database: an idle one reloads into the newer version by itself,
// one whose user is writing asks first and keeps the draft. A tab that does not let go
// blocks the upgrade, and the newer tab says so instead of hanging.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { TAKEOVER_WAIT_MS } from '../../src/ui/pwa/newer-worker.ts';
import { ServerProcess } from '../support/server-process.ts';
import { type AppBuild, buildApp } from './support/app-build.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { recordSteps } from './support/steps.ts';

let older: AppBuild;
let newer: AppBuild;
let serving: AppBuild;
let server: ServerProcess;
let browser: Browser;
let workDir: string;
let contexts: BrowserContext[] = [];

describeInChromium('a schema upgrade with older tabs open', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-schema-'));
    [older, newer] = await Promise.all([
      buildApp('schema-one'),
      buildApp('schema-two', { env: { VITE_FERRY_TEST_DB_VERSION_BUMP: '1' } }),
    ]);
    // Held: the tabs open on the older build must reach the newer one at the same origin.
    server = new ServerProcess({
      port: 'held',
      dbPath: join(workDir, 'ferry.db'),
      staticDir: older.dir,
    });
    await server.start();
    serving = older;
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    contexts = [];
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    older?.dispose();
    newer?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** Serves `build` from now on (a deploy: the server restarts at the same origin). */
  async function deploy(build: AppBuild): Promise<void> {
    if (serving === build) return;
    await server.restart({ staticDir: build.dir });
    serving = build;
  }

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    contexts.push(context);
    return context;
  }

  /**
   * A tab that loads past the service worker, as a hard reload (Shift+Reload) does: the
   * older worker still controls the profile, and would serve the older build from its cache.
   */
  async function openPastTheWorker(context: BrowserContext, room: string): Promise<FerryPage> {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const devtools = await context.newCDPSession(page);
    await devtools.send('Network.enable');
    await devtools.send('Network.setBypassServiceWorker', { bypass: true });
    await page.addInitScript(() => {
      // Notes a blocked notice even if it shows for a moment only.
      new MutationObserver(() => {
        if (document.querySelector('[data-testid=storage-blocked]')) {
          document.documentElement.dataset.sawBlocked = 'true';
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${server.url()}/#/room/${room}`);
    return new FerryPage(page);
  }

  /** Whether the tab ever showed `storage-blocked` since it loaded. */
  function sawBlocked(tab: FerryPage): Promise<boolean> {
    return tab.page.evaluate(() => document.documentElement.dataset.sawBlocked === 'true');
  }

  it('reloads an idle older tab into the newer version by itself, and asks a tab holding a draft, keeping the draft', {
    timeout: 90_000,
  }, async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    await deploy(older);
    const room = 'schema-upgrade';
    const context = await newContext();
    const idle = await FerryPage.open(context, server.url(), room);
    await idle.pickName('Ada');
    await idle.waitForConnection('connected');
    await idle.waitForServiceWorkerControl();
    const writing = await FerryPage.open(context, server.url(), room);
    await writing.waitForConnection('connected');
    const draft = 'half-written when the update came';
    await writing.page.getByTestId('composer-input').fill(draft);
    expect([await idle.buildId(), await writing.buildId()]).toEqual(['schema-one', 'schema-one']);
    const writingLoads: string[] = [];
    writing.page.on('load', () => writingLoads.push('load'));
    step('two older tabs open, one with a draft');

    await deploy(newer);
    const upgraded = await openPastTheWorker(context, room);
    expect(await upgraded.buildId()).toBe('schema-two');
    await upgraded.page.getByTestId('composer-input').waitFor();
    await upgraded.waitForConnection('connected');
    step('the newer version runs in a third tab');
    // The older tabs let go at once: the upgrade never waited for them.
    expect(await sawBlocked(upgraded)).toBe(false);

    // The newer worker is fetched and installed first (TAKEOVER_WAIT_MS at most).
    await expect
      .poll(() => idle.buildId(), { timeout: TAKEOVER_WAIT_MS + 5_000 })
      .toBe('schema-two');
    await idle.waitForConnection('connected');
    step('the idle tab reloaded into the newer version');

    const notice = writing.page.getByTestId('storage-lost');
    await notice.waitFor();
    expect(await notice.getAttribute('data-reason')).toBe('version_change');
    expect(await notice.textContent()).toContain('Ferry was updated in another tab');
    expect(await notice.textContent()).toContain('what you were typing');
    expect(writingLoads).toEqual([]);
    expect(await writing.buildId()).toBe('schema-one');
    step('the writing tab asks');

    await writing.page.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => writing.buildId(), { timeout: STEP_TIMEOUT_MS }).toBe('schema-two');
    await expect
      .poll(() => writing.page.getByTestId('composer-input').inputValue(), {
        timeout: STEP_TIMEOUT_MS,
      })
      .toBe(draft);
    step('the writing tab reloaded on its Reload, draft kept');

    // All three run the newer version over the upgraded database, and sync.
    const body = 'sent after the upgrade';
    await upgraded.send(body);
    for (const tab of [idle, writing]) {
      await expect
        .poll(async () => bodiesShown(await tab.messages(), [body]), { timeout: STEP_TIMEOUT_MS })
        .toEqual([[body, 'sent']]);
    }
  });

  it('says the upgrade is blocked while an older connection holds on, and goes on once it lets go', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    await deploy(older);
    const room = 'schema-blocked';
    const context = await newContext();
    const ferry = await FerryPage.open(context, server.url(), room);
    await ferry.pickName('Ada');
    await ferry.waitForConnection('connected');
    // What a tab of a Ferry from before tabs let go would do: hold the database open at
    // its version and ignore `versionchange`.
    const holder = await context.newPage();
    await holder.goto(`${server.url()}/healthz`);
    await holder.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const request = indexedDB.open('ferry');
          request.onsuccess = () => {
            (globalThis as { heldOpen?: IDBDatabase }).heldOpen = request.result;
            resolve();
          };
          request.onerror = () => reject(request.error);
        }),
    );
    await ferry.page.close();
    step('an older connection holds the database');

    await deploy(newer);
    const upgraded = await openPastTheWorker(context, room);
    const blocked = upgraded.page.getByTestId('storage-blocked');
    await blocked.waitFor();
    expect(await blocked.getAttribute('role')).toBe('alert');
    expect(await blocked.textContent()).toContain('another Ferry tab with the older version');
    expect(await upgraded.peek('composer-input')).toBeNull();
    step('the newer tab says it is blocked');

    await holder.close();
    await upgraded.page.getByTestId('composer-input').waitFor();
    expect(await upgraded.peek('storage-blocked')).toBeNull();
    expect(await upgraded.buildId()).toBe('schema-two');
    await upgraded.waitForConnection('connected');
    step('the older connection closed: the newer tab went on');
  });
});
