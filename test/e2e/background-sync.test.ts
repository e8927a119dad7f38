// Messages typed offline leave after the app is closed: the service worker sends them on a
// Background Sync over POST /api/messages (src/sw/sw.ts, src/client/outbox-sync.ts).
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { dispatchOutboxSync, syncTags } from './support/background-sync.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { numberedBodies } from './support/profile-tabs.ts';
import { RoomWatcher } from './support/room-watcher.ts';
import { SendFrameLog } from './support/send-frames.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';
import { serverHistory } from './support/server-history.ts';
import { recordSteps } from './support/steps.ts';

/** The promise: delivered within 15 s of "online", with no page of the sender open. */
const DELIVERED_WITHIN_MS = 15_000;
const LONG_OUTBOX = 300;

describeInChromium('background sync', () => {
  let app: ServedApp;
  let server: ServerProcess;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let watchers: RoomWatcher[] = [];

  beforeAll(async () => {
    // A held port: the server comes back at the same origin after it was down.
    app = await serveFreshBuild('background-sync', { port: 'held' });
    server = app.server;
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    for (const context of contexts) await context.close();
    contexts = [];
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  async function watch(room: string): Promise<RoomWatcher> {
    const watcher = await RoomWatcher.join(server.url(), room);
    watchers.push(watcher);
    return watcher;
  }

  /**
   * A profile with Ada signed in and the worker in control, then offline: what every test
   * starts from. The worker's console lines (`[ferry] outbox sync: …`) are collected.
   */
  async function adaOffline(room: string) {
    const context = await browser.newContext();
    contexts.push(context);
    const workerLog: string[] = [];
    context.on('console', (message) => {
      if (message.text().startsWith('[ferry] outbox sync')) workerLog.push(message.text());
    });
    const ada = await FerryPage.open(context, server.url(), room);
    await ada.pickName('Ada');
    await ada.waitForConnection('connected');
    await ada.waitForServiceWorkerControl();
    await context.setOffline(true);
    await ada.waitForConnection('offline');
    return { context, ada, workerLog };
  }

  /** Opens Ada's room again: all of `typed` shows sent, and this tab sends none of it. */
  async function reopenShowsSent(context: BrowserContext, room: string, typed: string[]) {
    const frames = new SendFrameLog();
    const reopened = await FerryPage.open(context, server.url(), room, {
      beforeLoad: (page) => frames.watch(page, 'reopened'),
    });
    await reopened.page.getByTestId('message').first().waitFor();
    await reopened.scrollToOldest();
    await expect
      .poll(async () => bodiesShown(await reopened.messages(), typed), {
        timeout: STEP_TIMEOUT_MS,
      })
      .toEqual(typed.map((body) => [body, 'sent']));
    expect(await reopened.outboxCount()).toBe(0);
    await reopened.waitForConnection('connected');
    expect(frames.frames).toEqual([]);
  }

  /** What the server stored in `room`: `typed`, once each, in order. */
  async function storedOnceInOrder(room: string, typed: string[]) {
    const stored = await serverHistory(server.url(), room);
    expect(stored.map((message) => message.body)).toEqual(typed);
    expect(new Set(stored.map((message) => message.id)).size).toBe(typed.length);
  }

  it('delivers 3 messages typed offline once each, in order, after every page of the profile closed', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const room = 'background-three';
    const typed = numberedBodies('from the tunnel', 3);
    const watcher = await watch(room);
    const { context, ada } = await adaOffline(room);
    for (const body of typed) await ada.send(body);
    expect(await syncTags(ada.page)).toContain('ferry-outbox');
    step('3 pending, sync registered');
    await ada.page.close();
    step('every page closed');

    const onlineAt = Date.now();
    await context.setOffline(false);
    await expect
      .poll(() => watcher.bodies(), { timeout: DELIVERED_WITHIN_MS, interval: 20 })
      .toEqual(typed);
    const deliveredMs = watcher.arrivedAt(typed) - onlineAt;
    step(`delivered ${deliveredMs} ms after online`);
    console.log(
      `[background sync] 3 messages, no page open: with another user ${deliveredMs} ms after going online`,
    );

    await reopenShowsSent(context, room, typed);
    await storedOnceInOrder(room, typed);
  });

  it('retries 300 messages after the server was down at first, and delivers them once, in order', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const room = 'background-long';
    const typed = numberedBodies('long tunnel', LONG_OUTBOX);
    const { context, ada, workerLog } = await adaOffline(room);
    await ada.sendMany(typed);
    await expect.poll(() => ada.outboxCount(), { timeout: STEP_TIMEOUT_MS }).toBe(LONG_OUTBOX);
    await ada.page.close();
    await server.stop();
    step(`${LONG_OUTBOX} pending, every page closed, server down`);

    await context.setOffline(false);
    await expect
      .poll(() => workerLog, { timeout: DELIVERED_WITHIN_MS })
      .toContainEqual(expect.stringMatching(/^\[ferry\] outbox sync: retry: 0 sent/));
    step('the sync ran and handed back for a retry');

    await server.start();
    const watcher = await watch(room);
    const retriedAt = Date.now();
    // Chromium's own retry comes minutes later (its backoff starts at 5 minutes): fire it.
    await dispatchOutboxSync(context, server.url());
    await expect
      .poll(() => watcher.bodies().length, { timeout: DELIVERED_WITHIN_MS, interval: 50 })
      .toBe(LONG_OUTBOX);
    expect(watcher.bodies()).toEqual(typed);
    const deliveredMs = watcher.arrivedAt(typed) - retriedAt;
    step(`delivered ${deliveredMs} ms after the retry`);
    console.log(
      `[background sync] ${LONG_OUTBOX} messages, no page open, server down at first: ` +
        `with another user ${deliveredMs} ms after the retry; worker: ${workerLog.join(' | ')}`,
    );

    await storedOnceInOrder(room, typed);
    await reopenShowsSent(context, room, typed);
  });

  it('sends once, in order, when the sync fires while a tab is open and flushing', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const room = 'background-tab-open';
    const typed = numberedBodies('open tab', LONG_OUTBOX);
    const { context, ada, workerLog } = await adaOffline(room);
    await ada.sendMany(typed);
    step(`${LONG_OUTBOX} pending in the open tab`);

    await context.setOffline(false);
    await dispatchOutboxSync(context, server.url());
    step('online, sync fired');
    await expect
      .poll(async () => bodiesShown(await ada.messages(), typed), {
        timeout: DELIVERED_WITHIN_MS,
        interval: 100,
      })
      .toEqual(typed.map((body) => [body, 'sent']));
    await storedOnceInOrder(room, typed);
    await expect.poll(() => workerLog.length, { timeout: STEP_TIMEOUT_MS }).toBeGreaterThan(0);
    // The tab holds the sender lock for its life: the worker never sends beside it.
    for (const line of workerLog)
      expect(line).toMatch(/^\[ferry\] outbox sync: (busy|retry: 0 sent)/);
    console.log(
      `[background sync] sync fired with a tab flushing; worker: ${workerLog.join(' | ')}`,
    );
  });
});
