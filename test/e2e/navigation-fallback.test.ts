// The installed service worker answers only the app's own pages with the app shell; every
// other path (the CA certificate, the health check, whatever the server adds) reaches the
// network, and fails as the network does when it is gone.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';

let app: ServedApp;
let browser: Browser;
let context: BrowserContext;
let ferry: FerryPage;

/** Server paths that are not the app. /ferry-ca.crt is only served with HTTPS=1 (tls.ts). */
const NOT_THE_APP = ['/ferry-ca.crt', '/healthz', '/some/server/path'];

describeInChromium('the service worker’s navigation fallback', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('navigation');
    browser = await launchChromium();
    context = await browser.newContext();
    ferry = await FerryPage.open(context, app.server.url(), 'navigation');
    await ferry.pickName('Ada');
    await ferry.waitForServiceWorkerControl();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.dispose();
  });

  it('leaves paths that are not the app to the network', async () => {
    for (const path of NOT_THE_APP) {
      const response = await ferry.page.goto(`${app.server.url()}${path}`);
      expect(response?.fromServiceWorker(), path).toBe(false);
    }
    const health = await ferry.page.goto(`${app.server.url()}/healthz`);
    expect(health?.headers()['content-type']).toContain('application/json');
  });

  it('answers the app’s own pages offline, and nothing else', async () => {
    await context.setOffline(true);
    try {
      for (const path of NOT_THE_APP) {
        await expect(ferry.page.goto(`${app.server.url()}${path}`), path).rejects.toThrow(
          /ERR_INTERNET_DISCONNECTED/,
        );
      }
      // A new tab each: the one above now shows Chromium's own error page.
      for (const path of ['/', '/index.html', '/?source=homescreen']) {
        const tab = await context.newPage();
        const response = await tab.goto(`${app.server.url()}${path}#/room/navigation`);
        expect(response?.fromServiceWorker(), path).toBe(true);
        await tab.getByTestId('composer-input').waitFor();
        await tab.close();
      }
    } finally {
      await context.setOffline(false);
    }
  });
});
