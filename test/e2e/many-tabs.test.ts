// One browser profile, three tabs (issue 12): one identity, one sender, one view. The
// network flaps while all three type; a message typed offline shows in every tab; the
// sending tab is closed in the middle of a 300-message flush and another takes over.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { bodiesShown, FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { numberedBodies, openProfileTabs } from './support/profile-tabs.ts';
import { meanSendsPerMessage, type SendFrameLog } from './support/send-frames.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';
import { serverHistory } from './support/server-history.ts';
import { recordSteps } from './support/steps.ts';

/**
 * The server's per-user budget: 100 at once, then 50 a second. It never binds the typing
 * test (30 messages); it makes the 300-message flush last seconds, so the sending tab can
 * be closed in the middle of it.
 */
const RATE = { burst: 100, perMinute: 3_000 };
const TABS = ['tab-1', 'tab-2', 'tab-3'] as const;
/** Each tab types this many messages while the network flaps. */
const TYPED_PER_TAB = 10;
/** The pause between two messages of one tab: three people-ish typing at once. */
const TYPING_PAUSE_MS = 250;
/** The network schedule while they type: up this long, then down this long, and again. */
const FLAP_ONLINE_MS = 900;
const FLAP_OFFLINE_MS = 600;
/** The network goes down at least this often, however fast the tabs type. */
const MIN_CUTS = 4;
/** Resends after a cut are fair; three tabs each flushing everything is not (issue 12). */
const MAX_MEAN_SENDS_PER_MESSAGE = 1.5;
/** A change made in one tab shows in the others within this (the promise). */
const OTHER_TABS_SHOW_WITHIN_MS = 1_000;
const HANDOFF_OUTBOX = 300;
/** The issue asks for about 1 s; the bound leaves room for a busy 2-core machine. */
const HANDOFF_WITHIN_MS = 2_000;
const DELIVERED_WITHIN_MS = 30_000;
/** Once the outbox count reads 0, the list shows every message sent within this. */
const VIEW_CATCHES_UP_MS = OTHER_TABS_SHOW_WITHIN_MS;

let app: ServedApp;
let server: ServerProcess;
let browser: Browser;
let contexts: BrowserContext[] = [];

/** One browser profile with Ferry open in three tabs, every WebSocket watched. */
interface Profile {
  context: BrowserContext;
  tabs: FerryPage[];
  frames: SendFrameLog;
}

describeInChromium('many tabs, one profile', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('many-tabs', { rate: RATE });
    server = app.server;
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts) await context.close();
    contexts = [];
  });

  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    contexts.push(context);
    return context;
  }

  /** Ada signs up in the first tab; the other two open on what it stored. */
  async function openProfile(room: string): Promise<Profile> {
    const context = await newContext();
    return { context, ...(await openProfileTabs(context, server.url(), room, TABS)) };
  }

  async function reader(room: string): Promise<FerryPage> {
    const grace = await FerryPage.open(await newContext(), server.url(), room);
    await grace.pickName('Grace');
    await grace.waitForConnection('connected');
    return grace;
  }

  it('delivers what three tabs type through a flapping network once each, in each tab’s order, sending each message about once', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const room = 'many-tabs-flapping';
    const { context, tabs, frames } = await openProfile(room);
    const grace = await reader(room);
    step('three tabs and a reader connected');

    const typed = TABS.map((label) => numberedBodies(label, TYPED_PER_TAB));
    let typing = true;
    const allTyped = Promise.all(
      tabs.map(async (tab, index) => {
        for (const body of typed[index] ?? []) {
          await tab.send(body);
          await tab.page.waitForTimeout(TYPING_PAUSE_MS);
        }
      }),
    ).finally(() => {
      typing = false;
    });
    const cuts = await flapWhile(context, (cutsSoFar) => typing || cutsSoFar < MIN_CUTS);
    await allTyped;
    step(`typed ${TABS.length * TYPED_PER_TAB} messages through ${cuts} cuts`);
    expect(cuts).toBeGreaterThanOrEqual(MIN_CUTS);

    for (const tab of tabs) {
      await expect
        .poll(() => tab.outboxCount(), { timeout: DELIVERED_WITHIN_MS, interval: 100 })
        .toBe(0);
    }
    step('every outbox empty');
    const everyBody = typed.flat();
    await expect
      .poll(async () => bodiesShown(await grace.messages(), everyBody).length, {
        timeout: STEP_TIMEOUT_MS,
      })
      .toBe(everyBody.length);
    const atGrace = await grace.messages();
    for (const bodies of typed) {
      expect(bodiesShown(atGrace, bodies)).toEqual(bodies.map((body) => [body, 'sent']));
    }
    step('Grace has every message once, in each tab’s order');

    const histories = await Promise.all(
      tabs.map(async (tab) =>
        (await tab.messages()).map(({ id, status, author }) => `${id} ${status} ${author}`),
      ),
    );
    expect(histories[0]).toHaveLength(everyBody.length);
    expect(histories[1]).toEqual(histories[0]);
    expect(histories[2]).toEqual(histories[0]);
    step('the three tabs show the same history');

    const ids = (await tabs[0]?.messages())?.map((message) => message.id) ?? [];
    const mean = meanSendsPerMessage(frames, ids);
    console.log(
      `[many tabs] ${ids.length} messages, ${cuts} cuts: each id sent ${mean.toFixed(2)} times on average ` +
        `over the three tabs' WebSockets (${frames.frames.length} send frames; ` +
        `tabs that sent: ${frames.senders().join(', ')})`,
    );
    expect(mean).toBeLessThanOrEqual(MAX_MEAN_SENDS_PER_MESSAGE);
  });

  it('shows a message typed offline in one tab as pending in the other two within 1 s, with the same outbox count', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const { context, tabs } = await openProfile('many-tabs-pending');
    const [first, typing, third] = tabs;
    if (!first || !typing || !third) throw new Error('three tabs expected');
    await context.setOffline(true);
    for (const tab of tabs) await tab.waitForConnection('offline');
    step('offline');

    const body = 'typed offline in tab 2';
    await typing.send(body);
    const queuedAt = Date.now();
    step('queued in tab 2');
    for (const other of [first, third]) {
      await expect
        .poll(async () => bodiesShown(await other.messages(), [body]), {
          timeout: OTHER_TABS_SHOW_WITHIN_MS,
          interval: 25,
        })
        .toEqual([[body, 'pending']]);
    }
    const shownAfterMs = Date.now() - queuedAt;
    step(`pending in tabs 1 and 3 after ${shownAfterMs} ms`);
    await expect
      .poll(() => Promise.all(tabs.map((tab) => tab.outboxCount())), {
        timeout: Math.max(0, OTHER_TABS_SHOW_WITHIN_MS - shownAfterMs),
        interval: 25,
      })
      .toEqual([1, 1, 1]);
    console.log(
      `[many tabs] a message queued in one tab showed as pending in the other two after ${shownAfterMs} ms`,
    );

    await context.setOffline(false);
    for (const tab of tabs) {
      await expect
        .poll(async () => bodiesShown(await tab.messages(), [body]), {
          timeout: STEP_TIMEOUT_MS,
        })
        .toEqual([[body, 'sent']]);
      expect(await tab.outboxCount()).toBe(0);
    }
    step('sent, in every tab');
  });

  it('hands the flush of 300 messages to another tab when the sending tab closes, and delivers them once, in order', async () => {
    const step = recordSteps(() => `server log:\n${server.log.join('\n')}`);
    const room = 'many-tabs-handoff';
    const { context, tabs, frames } = await openProfile(room);
    await context.setOffline(true);
    for (const tab of tabs) await tab.waitForConnection('offline');
    const bodies = numberedBodies('handoff', HANDOFF_OUTBOX);
    await tabs[0]?.sendMany(bodies);
    step(`${HANDOFF_OUTBOX} queued offline in tab 1`);

    const onlineAt = Date.now();
    await context.setOffline(false);
    await expect
      .poll(() => frames.frames.length, { timeout: STEP_TIMEOUT_MS, interval: 5 })
      .toBeGreaterThan(0);
    const sender = frames.frames[0]?.tab ?? '';
    const sending = tabs[TABS.indexOf(sender as (typeof TABS)[number])];
    if (!sending) throw new Error(`no tab is labelled ${sender}`);
    const others = tabs.filter((tab) => tab !== sending);
    const closedAt = Date.now();
    await sending.page.close();
    step(`${sender} closed after its first send frame`);
    const outboxAtClose = await others[0]?.outboxCount();
    const sendersBeforeClose = frames.senders(onlineAt, closedAt);

    await expect
      .poll(() => frames.firstFrameAfter(closedAt, sender), {
        timeout: STEP_TIMEOUT_MS,
        interval: 10,
      })
      .toBeDefined();
    const handoffMs = (frames.firstFrameAfter(closedAt, sender)?.at ?? Number.NaN) - closedAt;
    step(`another tab sent ${handoffMs} ms after the close`);

    for (const tab of others) {
      await expect
        .poll(() => tab.outboxCount(), { timeout: DELIVERED_WITHIN_MS, interval: 100 })
        .toBe(0);
    }
    step('both remaining outboxes empty');
    // The count is read after the list, so the list may still be one read-back behind it.
    for (const tab of others) {
      await expect
        .poll(async () => bodiesShown(await tab.messages(), bodies), {
          timeout: VIEW_CATCHES_UP_MS,
          interval: 50,
        })
        .toEqual(bodies.map((body) => [body, 'sent']));
    }
    const stored = await serverHistory(server.url(), room);
    expect(stored.map((message) => message.body).filter((body) => bodies.includes(body))).toEqual(
      bodies,
    );
    step('the server holds the 300 once each, in order');

    // The closing tab's last frames may still leave while `close()` runs: not a second sender.
    const sendersAfterClose = frames.senders(closedAt).filter((tab) => tab !== sender);
    console.log(
      `[many tabs] hand-off: ${handoffMs} ms from closing ${sender} to the first send frame of another tab ` +
        `(outbox then ${outboxAtClose} of ${HANDOFF_OUTBOX}; sent before the close: ${sendersBeforeClose.join(', ')}; ` +
        `after: ${sendersAfterClose.join(', ')}; each id sent ${meanSendsPerMessage(
          frames,
          stored.map((message) => message.id),
        ).toFixed(2)} times on average)`,
    );
    // One sender at a time: the closed one, then exactly one of the two left.
    expect(sendersBeforeClose).toEqual([sender]);
    expect(sendersAfterClose).toHaveLength(1);
    expect(handoffMs).toBeLessThanOrEqual(HANDOFF_WITHIN_MS);
    // About 20 s alone; typing 300 messages into three synced tabs slows most under load.
  }, 90_000);
});

/**
 * Takes the profile's network down and up on a fixed schedule for as long as `going`
 * says (told how many cuts so far); ends online. Answers how many times it went down.
 */
async function flapWhile(
  context: BrowserContext,
  going: (cuts: number) => boolean,
): Promise<number> {
  let cuts = 0;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  while (going(cuts)) {
    await pause(FLAP_ONLINE_MS);
    if (!going(cuts)) break;
    await context.setOffline(true);
    cuts += 1;
    await pause(FLAP_OFFLINE_MS);
    await context.setOffline(false);
  }
  return cuts;
}
