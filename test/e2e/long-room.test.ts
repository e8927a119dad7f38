// A long room in Chromium: scrolling up a 5,000-message room pages older history from the
// server with the row being read kept in place, and a room with unread messages opens at
// its unread line, with "jump to latest" and the count of what is below.
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { MAX_BATCH_MESSAGES } from '../../src/shared/limits.ts';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.ts';
import { emitRaw, rawClient, signUp } from '../support/raw-client.ts';
import { type BrowserSuite, browserSuite } from './support/browser-suite.ts';
import { describeInChromium } from './support/chromium.ts';
import { FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { saveScreenshot } from './support/screenshots.ts';
import { recordSteps } from './support/steps.ts';

const ROOM_MESSAGES = 5_000;
/** How far a row being read may move while older rows go in above it (a rounding's worth). */
const ANCHOR_SLACK_PX = 2;
/** How long a row may take to settle back in place after a page goes in above it. */
const ANCHOR_SETTLE_MS = 2_000;

let suite: BrowserSuite;

/** Stores `count` messages "message 1".."message N" from a user of their own, in order. */
async function seed(room: string, count: number, first = 1): Promise<void> {
  const { token } = await signUp(suite.app.server.url(), 'Grace');
  const socket = await rawClient(suite.app.server.url(), { token, protocol: PROTOCOL_VERSION });
  try {
    await emitRaw(socket, 'join', { room });
    for (let start = 0; start < count; start += MAX_BATCH_MESSAGES) {
      const messages = Array.from(
        { length: Math.min(MAX_BATCH_MESSAGES, count - start) },
        (_, i) => ({
          id: newMessageId(),
          body: `message ${first + start + i}`,
        }),
      );
      const ack = (await emitRaw(socket, 'send', { room, messages })) as { ok: boolean };
      if (!ack.ok) throw new Error(`seeding refused: ${JSON.stringify(ack)}`);
    }
  } finally {
    socket.close();
  }
}

async function signedIn(room: string, name: string): Promise<FerryPage> {
  const context = await suite.newContext({ viewport: { width: 1000, height: 700 } });
  const ferry = await FerryPage.open(context, suite.app.server.url(), room);
  await ferry.pickName(name);
  await ferry.waitForConnection('connected');
  return ferry;
}

/** The message rows in view, top first: their text and where they are on screen. */
function rowsInView(page: Page): Promise<{ text: string; top: number }[]> {
  return page.evaluate(() => {
    const scroller = document.querySelector('.messages');
    if (!scroller) return [];
    const box = scroller.getBoundingClientRect();
    return [...document.querySelectorAll('[data-testid=message]')]
      .map((row) => ({
        text: row.querySelector('.message-body')?.textContent ?? '',
        rect: row.getBoundingClientRect(),
      }))
      .filter(({ rect }) => rect.bottom > box.top && rect.top < box.bottom)
      .map(({ text, rect }) => ({ text, top: rect.top }))
      .sort((a, b) => a.top - b.top);
  });
}

/** How tall the list's content is: it grows as older pages go in above. */
function listHeight(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelector('.messages')?.scrollHeight ?? 0);
}

describeInChromium('a long room', () => {
  suite = browserSuite('long-room');

  it('pages a 5,000-message room in from the server as the reader scrolls up, the row being read kept in place', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    await seed('archive', ROOM_MESSAGES);
    const ada = await signedIn('archive', 'Ada');
    await ada.page.getByText(`message ${ROOM_MESSAGES}`, { exact: true }).waitFor();
    step('opened at the newest');

    let pages = 0;
    let checked = 0;
    for (;;) {
      // Up to the top of what is loaded, where the next page is asked for; two frames for
      // the rows there to render. (The list is virtualised past 500 rows: only rows near
      // the viewport are in the DOM, so a page's arrival shows as a taller list.)
      const heightBefore = await listHeight(ada.page);
      await ada.page.evaluate(async () => {
        const scroller = document.querySelector('.messages');
        if (scroller) scroller.scrollTop = 0;
        for (let i = 0; i < 2; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
      });
      const rows = await rowsInView(ada.page);
      const reading = rows[0];
      if (!reading) throw new Error('no row in view');
      if (reading.text === 'message 1') break;
      const height = await listHeight(ada.page);
      pages += 1;
      // The page came in within those two frames: nothing to compare this time.
      if (height > heightBefore) continue;
      try {
        await expect
          .poll(() => listHeight(ada.page), { timeout: STEP_TIMEOUT_MS })
          .toBeGreaterThan(height);
      } catch (error) {
        const dump = await ada.page.evaluate(() => {
          const scroller = document.querySelector('.messages');
          const button = document.querySelector('[data-testid=load-older]');
          return JSON.stringify({
            top: scroller?.scrollTop,
            client: scroller?.clientHeight,
            button: button?.getAttribute('data-state') ?? 'none',
            first: document.querySelector('[data-testid=message] .message-body')?.textContent,
          });
        });
        throw new Error(`${dump} ${String(error)}`);
      }
      // Where the row settles once the new rows are measured (on a loaded machine a frame
      // may show it mid-way, before the anchor puts it back): where it was.
      const moved = async () => {
        const after = (await rowsInView(ada.page)).find((row) => row.text === reading.text);
        return after ? Math.abs(after.top - reading.top) : Number.POSITIVE_INFINITY;
      };
      await expect
        .poll(moved, { timeout: ANCHOR_SETTLE_MS, interval: 50 })
        .toBeLessThanOrEqual(ANCHOR_SLACK_PX);
      checked += 1;
    }
    step(`reached message 1 after ${pages} pages, the row in place checked on ${checked}`);
    expect(checked).toBeGreaterThanOrEqual(10);
    const top = await rowsInView(ada.page);
    expect(top[0]?.text).toBe('message 1');
  });

  it('opens a room at its unread line, with "jump to latest" and the count below', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    await seed('catch', 5);
    const ada = await signedIn('catch', 'Ada');
    await ada.page.getByText('message 5', { exact: true }).waitFor();
    // Ada reads the five, goes elsewhere; forty more come in meanwhile.
    await ada.page.evaluate(() => {
      location.hash = '#/room/lobby';
    });
    await ada.page.locator('[data-testid=room-link][data-room="catch"]').waitFor();
    await seed('catch', 40, 6);
    await expect
      .poll(
        () =>
          ada.page
            .locator('[data-testid=room-link][data-room="catch"]')
            .getAttribute('data-unread'),
        { timeout: STEP_TIMEOUT_MS },
      )
      .toBe('40');
    step('40 unread in the list');

    await ada.page.locator('[data-testid=room-link][data-room="catch"]').click();
    const divider = ada.page.getByTestId('unread-divider');
    await divider.waitFor();
    // The line is just above the first unread message, and in view near the top.
    const firstUnread = await ada.page.evaluate(() => {
      const line = document.querySelector('[data-testid=unread-divider]');
      const row = line?.closest('li')?.querySelector('[data-testid=message] .message-body');
      return row?.textContent ?? null;
    });
    expect(firstUnread).toBe('message 6');
    expect((await rowsInView(ada.page)).map((row) => row.text)).toContain('message 6');
    const jump = ada.page.getByTestId('jump-latest');
    await jump.waitFor();
    const label = (await jump.getAttribute('aria-label')) ?? '';
    const below = Number(/(\d+) new/.exec(label)?.[1] ?? Number.NaN);
    expect(below).toBeGreaterThan(0);
    expect(below).toBeLessThan(40);
    await saveScreenshot(ada.page, 'rooms-unread-divider');
    step(`divider at message 6, ${below} new below`);

    await jump.click();
    await expect.poll(() => jump.count(), { timeout: STEP_TIMEOUT_MS }).toBe(0);
    expect((await rowsInView(ada.page)).map((row) => row.text)).toContain('message 45');
    // The line stays where it was for this visit.
    expect(await divider.count()).toBe(1);
    step('jumped to the latest');
  });
});
