// A second build is deployed; the open tab offers it, and switching to it keeps the outbox
// and never happens while outbox batches are on the wire.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServerProcess } from '../support/server-process.ts';
import { type AppBuild, buildApp } from './support/app-build.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { PHONE_VIEWPORT, saveScreenshot } from './support/screenshots.ts';
import { recordSteps } from './support/steps.ts';

/** A small budget (3 at once, then one every 2 s) keeps a few messages on the wire for seconds. */
const RATE = { burst: 3, perMinute: 30 };

let first: AppBuild;
let second: AppBuild;
let server: ServerProcess;
let browser: Browser;
let workDir: string;
const contexts: BrowserContext[] = [];

describeInChromium('the update prompt', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-update-'));
    [first, second] = await Promise.all([buildApp('update-one'), buildApp('update-two')]);
    // Held: the restarted server (a deploy) must answer at the origin the tab has open.
    server = new ServerProcess({
      port: 'held',
      dbPath: join(workDir, 'ferry.db'),
      staticDir: first.dir,
      rate: RATE,
    });
    await server.start();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.dispose();
    first?.dispose();
    second?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('activates the new version on Reload and keeps the pending messages', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const context = await browser.newContext({ viewport: PHONE_VIEWPORT });
    contexts.push(context);
    // The socket can be held down while the page still reaches the server over HTTP, so
    // that messages stay pending while the new version is fetched and switched to.
    let socketsBlocked = false;
    await context.routeWebSocket(/\/socket\.io\//, (socket) => {
      if (socketsBlocked) socket.close();
      else socket.connectToServer();
    });
    const ada = await FerryPage.open(context, server.url(), 'update-keeps-outbox');
    await ada.pickName('Ada');
    await ada.waitForConnection('connected');
    await ada.waitForServiceWorkerControl();
    step('controlled by the first build');
    expect(await ada.buildId()).toBe('update-one');

    await context.setOffline(true);
    await ada.waitForConnection('offline');
    const pending = ['queued before the update #1', 'queued before the update #2'];
    for (const body of pending) await ada.send(body);
    step('2 messages pending');

    // The second build is deployed; back online, the tab looks for it.
    await server.restart({ staticDir: second.dir });
    step('second build deployed');
    socketsBlocked = true;
    await context.setOffline(false);
    step('online, sockets blocked');
    await expect
      .poll(async () => (await ada.peek('update-banner'))?.state, { timeout: STEP_TIMEOUT_MS })
      .toBe('available');
    step('update offered');
    expect((await ada.peek('update-banner'))?.text).toContain('New version available');
    await saveScreenshot(ada.page, 'update-available');
    expect(await ada.outboxCount()).toBe(2);

    await ada.page.getByTestId('update-reload').click();
    step('Reload pressed');
    await expect.poll(() => ada.buildId(), { timeout: STEP_TIMEOUT_MS }).toBe('update-two');
    step('second build running');
    await expect
      .poll(async () => bodiesShown(await ada.messages(), pending), { timeout: STEP_TIMEOUT_MS })
      .toEqual(pending.map((body): [string, string] => [body, 'pending']));
    expect(await ada.outboxCount()).toBe(2);
    expect(await ada.peek('update-banner')).toBeNull();

    socketsBlocked = false;
    step('sockets unblocked');
    // Its own backoff may reconnect first and take the button away under a click (which then
    // waited 15 s for it): pressed in the page, if it is still there, in one step.
    await ada.page.evaluate(() =>
      document.querySelector<HTMLButtonElement>('[data-testid=retry-now]')?.click(),
    );
    await expect
      .poll(async () => bodiesShown(await ada.messages(), pending), { timeout: STEP_TIMEOUT_MS })
      .toEqual(pending.map((body): [string, string] => [body, 'sent']));
  });

  it('does not reload a tab that said Later while it holds a draft, and keeps the draft', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const context = await browser.newContext({ viewport: PHONE_VIEWPORT });
    contexts.push(context);
    const room = 'update-two-tabs';
    const tabA = await FerryPage.open(context, server.url(), room);
    await tabA.pickName('Ada');
    // Tab B opens once the worker controls tab A: a page whose navigation starts while the
    // first worker is still installing can miss its clients.claim() and stay uncontrolled
    // until it is reloaded (CI caught this as a 15 s timeout on a loaded machine).
    await tabA.waitForServiceWorkerControl();
    const tabB = await FerryPage.open(context, server.url(), room);
    for (const tab of [tabA, tabB]) {
      await tab.waitForConnection('connected');
      await tab.waitForServiceWorkerControl();
    }
    step('two tabs controlled');
    const runningBuild = await tabA.buildId();
    const next = runningBuild === first.buildId ? second : first;

    await server.restart({ staticDir: next.dir });
    step('next build deployed');
    for (const tab of [tabA, tabB]) {
      await expect
        .poll(async () => (await tab.peek('update-banner'))?.state, { timeout: STEP_TIMEOUT_MS })
        .toBe('available');
    }
    step('update offered in both tabs');

    const draft = 'half-written in tab B, which said Later';
    await tabB.page.getByTestId('composer-input').fill(draft);
    await tabB.page.getByTestId('update-later').click();
    expect(await tabB.peek('update-banner')).toBeNull();
    step('tab B: draft typed, Later pressed');

    // Tab B learns of the switch through `controllerchange`, the moment the new worker
    // takes over: by the time tab A runs the new build, tab B has had its chance to reload.
    const tabBLoads: string[] = [];
    tabB.page.on('load', () => tabBLoads.push('load'));
    await tabA.page.getByTestId('update-reload').click();
    await expect.poll(() => tabA.buildId(), { timeout: STEP_TIMEOUT_MS }).toBe(next.buildId);
    step('tab A runs the next build');
    await expect
      .poll(async () => (await tabB.peek('update-banner'))?.state, { timeout: STEP_TIMEOUT_MS })
      .toBe('available');
    await tabB.page.waitForTimeout(2_000);
    expect(tabBLoads).toEqual([]);
    expect(await tabB.buildId()).toBe(runningBuild);
    expect(await tabB.page.getByTestId('composer-input').inputValue()).toBe(draft);
    // Told that the new version already runs elsewhere, and asked only for its Reload.
    expect((await tabB.peek('update-banner'))?.text).toContain('running in another tab');
    expect(await tabB.peek('update-later')).toBeNull();
    step('tab B untouched, still offering the update');

    await tabB.page.getByTestId('update-reload').click();
    await expect.poll(() => tabB.buildId(), { timeout: STEP_TIMEOUT_MS }).toBe(next.buildId);
    await expect
      .poll(() => tabB.page.getByTestId('composer-input').inputValue(), {
        timeout: STEP_TIMEOUT_MS,
      })
      .toBe(draft);
    step('tab B switched on its own Reload, draft kept');
  });

  it('waits until the outbox is sent before switching, and says so', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const context = await browser.newContext({ viewport: PHONE_VIEWPORT });
    contexts.push(context);
    const lin = await FerryPage.open(context, server.url(), 'update-waits-for-outbox');
    await lin.pickName('Lin');
    await lin.waitForConnection('connected');
    await lin.waitForServiceWorkerControl();
    step('controlled');
    const runningBuild = await lin.buildId();
    const next = runningBuild === first.buildId ? second : first;

    // A deploy restarts the server: the tab reconnects and finds the new version.
    await server.restart({ staticDir: next.dir });
    step('next build deployed');
    await expect
      .poll(async () => (await lin.peek('update-banner'))?.state, { timeout: STEP_TIMEOUT_MS })
      .toBe('available');
    step('update offered');

    // More than the server's budget: some stay queued, going out one every 2 s.
    const bodies = Array.from({ length: 6 }, (_, index) => `sent while updating #${index + 1}`);
    await lin.sendMany(bodies);
    step('6 messages queued');
    await lin.page.getByTestId('update-reload').click();
    step('Reload pressed');
    const waiting = await lin.peek('update-banner');
    expect(waiting?.state).toBe('waiting');
    expect(waiting?.text).toMatch(/Updating once \d+ messages? (is|are) sent/);
    await saveScreenshot(lin.page, 'update-waiting-for-outbox');
    expect(await lin.outboxCount()).toBeGreaterThan(0);
    expect(await lin.buildId()).toBe(runningBuild);

    await expect.poll(() => lin.buildId(), { timeout: 30_000 }).toBe(next.buildId);
    step('next build running');
    await expect
      .poll(async () => bodiesShown(await lin.messages(), bodies), { timeout: STEP_TIMEOUT_MS })
      .toEqual(bodies.map((body): [string, string] => [body, 'sent']));
  });
});
