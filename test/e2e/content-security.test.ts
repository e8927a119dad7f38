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

describeInChromium('the app as the server sends it: its security policy and compression', () => {
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
    const first = await context.newPage();
    const response = await first.goto(`${app.server.url()}/#/room/csp`);
    // Without the header nothing could violate it: the test would prove nothing.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await first.close();
    const ferry = await FerryPage.open(context, app.server.url(), 'csp');
    await ferry.pickName('Ada');
    await ferry.send('hello under a strict policy');
    const id = await ferry.idOf('hello under a strict policy');
    await ferry.editMessage(id, 'hello, edited under a strict policy');
    await ferry.waitForServiceWorkerControl();
    expect(await ferry.page.evaluate(() => window.ferryCspViolations)).toEqual([]);

    const reloaded = await ferry.page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    await ferry.page.getByTestId('composer-input').waitFor();
    await expect.poll(() => ferry.outboxCount()).toBe(0);
    expect(await ferry.page.evaluate(() => window.ferryCspViolations)).toEqual([]);
  });

  it('is sent as the build compressed it: the page and its script in brotli, varying by Accept-Encoding', async () => {
    // A context of its own: in the first one the service worker answers from its cache.
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    const script = page.waitForResponse((answer) =>
      /\/assets\/index-[^/]+\.js$/.test(answer.url()),
    );
    const document = await page.goto(`${app.server.url()}/#/room/csp`);
    for (const answer of [document, await script]) {
      expect(answer?.fromServiceWorker(), answer?.url()).toBe(false);
      expect(answer?.headers()['content-encoding'], answer?.url()).toBe('br');
      expect(answer?.headers().vary, answer?.url()).toBe('Accept-Encoding');
    }
    await fresh.close();
  });
});
