// The server's Content-Security-Policy (no inline script or style, no eval) must hold for
// the app as built: a violation is a feature the policy silently breaks, and Lighthouse's
// best practices count every one the console logs.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';

let app: ServedApp;
let browser: Browser;
let context: BrowserContext;

declare global {
  interface Window {
    /** What the page's CSP refused, as `securitypolicyviolation` events said it. */
    ferryCspViolations?: string[];
  }
}

describeInChromium('the content security policy', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('csp');
    browser = await launchChromium();
    context = await browser.newContext();
    await context.addInitScript(() => {
      window.ferryCspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) => {
        const where = `${event.sourceFile}:${event.lineNumber}`;
        window.ferryCspViolations?.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
      });
    });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.dispose();
  });

  it('is never violated by the app: a first visit, a message sent, an edit, a reload from the service worker', async () => {
    const ferry = await FerryPage.open(context, app.server.url(), 'csp');
    await ferry.pickName('Ada');
    await ferry.send('hello under a strict policy');
    const id = await ferry.idOf('hello under a strict policy');
    await ferry.editMessage(id, 'hello, edited under a strict policy');
    await ferry.waitForServiceWorkerControl();
    expect(await ferry.page.evaluate(() => window.ferryCspViolations)).toEqual([]);

    await ferry.page.reload();
    await ferry.page.getByTestId('composer-input').waitFor();
    await expect.poll(() => ferry.outboxCount()).toBe(0);
    expect(await ferry.page.evaluate(() => window.ferryCspViolations)).toEqual([]);
  });
});
