// The tab dies while a 300-message outbox is flushing; the reopened app delivers every
// message exactly once, in order.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';
import { recordSteps } from './support/steps.ts';

const OUTBOX_SIZE = 300;
/**
 * The server's per-user budget makes the flush last seconds, so the tab can die in the
 * middle of it: the first 100 go through at once, the rest at 50 a second.
 */
const RATE = { burst: 100, perMinute: 3_000 };
/** Delivering the rest after the reopen takes about 4 s at that rate. */
const DELIVERED_WITHIN_MS = 30_000;
/** The room a device opens for the first time shows this much recent history. */
const INITIAL_HISTORY_MESSAGES = 200;

const room = 'tab-killed';
const bodies = Array.from(
  { length: OUTBOX_SIZE },
  (_, index) => `[flush ${String(index + 1).padStart(3, '0')}]`,
);

let app: ServedApp;
let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;

describeInChromium('a tab killed mid-flush', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('tab-killed', { rate: RATE });
    server = app.server;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  it('delivers all 300 queued messages exactly once, in order, after the app is reopened', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    context = await browser.newContext();
    const first = await FerryPage.open(context, server.url(), room);
    await first.pickName('Ada');
    await first.waitForConnection('connected');
    await first.waitForServiceWorkerControl();
    step('controlled, online');

    await context.setOffline(true);
    await first.waitForConnection('offline');
    await first.sendMany(bodies);
    step('300 queued offline');
    expect(await first.outboxCount()).toBe(OUTBOX_SIZE);

    await context.setOffline(false);
    step('back online');
    // Some acks are in, many messages are still queued: kill the renderer, no unload.
    await first.page.waitForFunction(
      (size) => {
        const count = Number(document.querySelector('[data-testid=outbox-count]')?.textContent);
        return count < size && count > 0;
      },
      OUTBOX_SIZE,
      { polling: 'raf', timeout: STEP_TIMEOUT_MS },
    );
    const leftAtKill = await crash(first.page);
    step('tab crashed');
    console.log(`[tab killed] outbox when the tab died: ${leftAtKill} of ${OUTBOX_SIZE}`);
    expect(leftAtKill).toBeGreaterThan(0);

    const reopened = await FerryPage.open(context, server.url(), room);
    step('reopened');
    await expect
      .poll(async () => reopened.outboxCount(), { timeout: DELIVERED_WITHIN_MS, interval: 100 })
      .toBe(0);
    step('outbox empty');
    expect(bodiesShown(await reopened.messages(), bodies)).toEqual(
      bodies.map((body): [string, string] => [body, 'sent']),
    );

    // Another user's first visit loads the most recent history from the server.
    const other = await browser.newContext();
    const grace = await FerryPage.open(other, server.url(), room);
    await grace.pickName('Grace');
    const recent = bodies.slice(-INITIAL_HISTORY_MESSAGES);
    await expect
      .poll(async () => bodiesShown(await grace.messages(), bodies), { timeout: STEP_TIMEOUT_MS })
      .toEqual(recent.map((body): [string, string] => [body, 'sent']));
    await other.close();
    await context.close();
  });
});

/** Crashes the tab's renderer (as the OS killing it would); answers the outbox count just before. */
async function crash(page: Page): Promise<number> {
  const count = await new FerryPage(page).outboxCount();
  const cdp = await page.context().newCDPSession(page);
  const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()));
  // The renderer dies before it can answer, so the command itself fails.
  cdp.send('Page.crash').catch(() => undefined);
  await crashed;
  await page.close();
  return count;
}
