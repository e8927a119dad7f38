// A reload in airplane mode renders the app from the service worker, with its history and
// outbox, and the outbox goes out once the network is back (the steps docs/pwa.md shows).
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { PHONE_VIEWPORT, saveScreenshot } from './support/screenshots.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';
import { recordSteps } from './support/steps.ts';

/** What the user waits at most: offline shows within 2 s, the outbox is delivered within 10 s. */
const OFFLINE_SHOWN_WITHIN_MS = 2_000;
const DELIVERED_WITHIN_MS = 10_000;
describeInChromium('airplane mode', () => {
  let app: ServedApp;
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    app = await serveFreshBuild('airplane');
    server = app.server;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  // The open WebSocket behaves differently offline on the two names (see STACK.md): to
  // 127.0.0.1 Chromium closes it at once, to localhost it keeps it "open" and silent.
  describe.each(['127.0.0.1', 'localhost'] as const)('at %s', (host) => {
    const room = `airplane-${host === 'localhost' ? 'localhost' : 'loopback'}`;
    const writtenOffline = ['written offline #1', 'written offline #2', 'written offline #3'];
    const history = 'before take-off';
    let contexts: BrowserContext[] = [];

    afterAll(async () => {
      for (const context of contexts) await context.close();
      contexts = [];
    });

    it('keeps 3 messages written offline through an offline reload and delivers them once, in order', async () => {
      const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
      const contextA = await browser.newContext({ viewport: PHONE_VIEWPORT });
      contexts.push(contextA);
      let ada = await FerryPage.open(contextA, server.url(host), room);
      await ada.pickName('Ada');
      await ada.waitForConnection('connected');
      await ada.waitForServiceWorkerControl();
      step('controlled, online');
      await ada.send(history);
      await expect
        .poll(async () => bodiesShown(await ada.messages(), [history]), {
          timeout: STEP_TIMEOUT_MS,
        })
        .toEqual([[history, 'sent']]);
      await screenshotAt(host, ada, '1-online');

      await contextA.setOffline(true);
      await ada.waitForConnection('offline', OFFLINE_SHOWN_WITHIN_MS);
      step('offline shown');

      for (const body of writtenOffline) await ada.send(body);
      step('3 messages pending');
      expect(bodiesShown(await ada.messages(), [history, ...writtenOffline])).toEqual([
        [history, 'sent'],
        ...writtenOffline.map((body): [string, string] => [body, 'pending']),
      ]);
      expect(await ada.outboxCount()).toBe(3);
      await screenshotAt(host, ada, '2-offline-pending');

      await ada.page.addInitScript(recordFirstMessageRender);
      const reloaded = await ada.page.reload();
      expect(reloaded?.fromServiceWorker()).toBe(true);
      step('reloaded offline');
      ada = new FerryPage(ada.page);
      await expect
        .poll(async () => (await ada.messages()).length, { timeout: STEP_TIMEOUT_MS })
        .toBe(4);
      const timing = await ada.page.evaluate(readRenderTiming);
      console.log(
        `[airplane ${host}] offline reload, ms after navigation start: first paint ` +
          `${timing.firstPaintMs?.toFixed(0)}, messages on screen ${timing.firstMessageMs?.toFixed(0)}`,
      );
      expect(bodiesShown(await ada.messages(), [history, ...writtenOffline])).toEqual([
        [history, 'sent'],
        ...writtenOffline.map((body): [string, string] => [body, 'pending']),
      ]);
      expect(await ada.outboxCount()).toBe(3);
      expect(await ada.connectionState()).toBe('offline');
      await screenshotAt(host, ada, '3-reloaded-offline');

      await contextA.setOffline(false);
      step('back online');
      await expect
        .poll(async () => bodiesShown(await ada.messages(), writtenOffline), {
          timeout: DELIVERED_WITHIN_MS,
          interval: 50,
        })
        .toEqual(writtenOffline.map((body): [string, string] => [body, 'sent']));
      expect(await ada.outboxCount()).toBe(0);
      step('delivered');
      await screenshotAt(host, ada, '4-delivered');

      const contextB = await browser.newContext({ viewport: PHONE_VIEWPORT });
      contexts.push(contextB);
      const grace = await FerryPage.open(contextB, server.url(host), room);
      await grace.pickName('Grace');
      await expect
        .poll(async () => bodiesShown(await grace.messages(), [history, ...writtenOffline]), {
          timeout: STEP_TIMEOUT_MS,
        })
        .toEqual([history, ...writtenOffline].map((body): [string, string] => [body, 'sent']));
      const fromAda = (await grace.messages()).filter((message) => message.author === 'Ada');
      expect(new Set(fromAda.map((message) => message.id)).size).toBe(4);
    });
  });
});

/**
 * Runs in the page before its own scripts (an init script): notes when the first message
 * is in the DOM, in ms since the navigation started.
 */
function recordFirstMessageRender(): void {
  const observer = new MutationObserver(() => {
    if (!document.querySelector('[data-testid=message]')) return;
    (window as { ferryFirstMessageMs?: number }).ferryFirstMessageMs = performance.now();
    observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true });
}

function readRenderTiming(): { firstPaintMs?: number; firstMessageMs?: number } {
  return {
    firstPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    firstMessageMs: (window as { ferryFirstMessageMs?: number }).ferryFirstMessageMs,
  };
}

/** The docs show the steps at 127.0.0.1 (both runs look the same). */
function screenshotAt(host: string, ferry: FerryPage, step: string): Promise<void> {
  return host === '127.0.0.1' ? saveScreenshot(ferry.page, `airplane-${step}`) : Promise.resolve();
}
