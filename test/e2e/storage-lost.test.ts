// A tab whose database is taken away (a newer Ferry upgrading it from another tab, or the
// browser clearing site data) says so, offers a reload, and no longer shows a connection.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';

let app: ServedApp;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext | undefined;

describeInChromium('a tab that loses its database', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('storage-lost');
    server = app.server;
    browser = await launchChromium();
  });

  afterEach(async () => {
    await context?.close();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  async function connectedTab(room: string): Promise<FerryPage> {
    context = await browser.newContext();
    const ferry = await FerryPage.open(context, server.url(), room);
    await ferry.pickName('Ada');
    await ferry.waitForConnection('connected');
    return ferry;
  }

  /** Another tab of the same origin opens the database at a newer version, as a newer Ferry would. */
  async function upgradeFromAnotherTab(ferry: FerryPage): Promise<void> {
    const other = await ferry.page.context().newPage();
    await other.goto(`${server.url()}/healthz`);
    await other.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const request = indexedDB.open('ferry', 1_000);
          request.onsuccess = () => {
            request.result.close();
            resolve();
          };
          request.onerror = () => reject(request.error);
        }),
    );
  }

  it('says Ferry was updated in another tab when a newer version upgrades the database under a draft', async () => {
    const ferry = await connectedTab('storage-upgraded');
    await ferry.page.getByTestId('composer-input').fill('half-written');
    const loads: string[] = [];
    ferry.page.on('load', () => loads.push('load'));
    await upgradeFromAnotherTab(ferry);

    const notice = ferry.page.getByTestId('storage-lost');
    await notice.waitFor();
    expect(await notice.getAttribute('data-reason')).toBe('version_change');
    expect(await notice.textContent()).toContain(
      'Ferry was updated in another tab — reload to continue',
    );
    expect(await ferry.page.getByRole('button', { name: 'Reload' }).count()).toBe(1);
    expect(await ferry.peek('connection-status')).toBeNull();
    expect(loads).toEqual([]);
  });

  it('reloads an idle tab by itself when a newer version upgrades the database, and says why it cannot run when no newer version can be had', async () => {
    const ferry = await connectedTab('storage-upgraded-idle');
    const loads: string[] = [];
    ferry.page.on('load', () => loads.push('load'));
    await upgradeFromAnotherTab(ferry);

    // No newer build exists here: the reload brings this version back, which must not
    // open the upgraded database, and says so instead of reloading again.
    const notice = ferry.page.getByTestId('storage-unavailable');
    await notice.waitFor();
    expect(await notice.getAttribute('data-reason')).toBe('newer_version');
    expect(loads).toEqual(['load']);
    await ferry.page.waitForTimeout(1_000);
    expect(loads).toEqual(['load']);
  });

  it('says the browser closed the storage when site data is cleared under it', async () => {
    const ferry = await connectedTab('storage-cleared');
    const devtools = await ferry.page.context().newCDPSession(ferry.page);
    await devtools.send('Storage.clearDataForOrigin', {
      origin: server.url(),
      storageTypes: 'indexeddb',
    });

    const notice = ferry.page.getByTestId('storage-lost');
    await notice.waitFor();
    expect(await notice.getAttribute('data-reason')).toBe('closed');
    expect(await notice.textContent()).toContain('Storage was closed by the browser — reload');
    expect(await ferry.peek('connection-status')).toBeNull();
  });

  it('says the data is from a newer version, and never to clear it, when an older Ferry is served', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    // A newer Ferry saved this origin's data at its own, higher version; then the app was
    // rolled back.
    await page.goto(`${server.url()}/healthz`);
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const request = indexedDB.open('ferry', 1_000);
          request.onsuccess = () => {
            request.result.close();
            resolve();
          };
          request.onerror = () => reject(request.error);
        }),
    );
    await page.goto(`${server.url()}/#/room/rolled-back`);

    const notice = page.locator('main[role=alert]');
    await notice.waitFor();
    const text = await notice.textContent();
    expect(text).toContain(
      'This copy of Ferry is older than the data saved on this device by a newer version.',
    );
    expect(text).toContain('your unsent messages are kept');
    expect(text).not.toMatch(/private browsing|clear|blocked site data/i);
    expect(await notice.getAttribute('data-reason')).toBe('newer_version');
    expect(await page.getByRole('button', { name: 'Reload' }).count()).toBe(1);
  });
});
