// The room list and read receipts in Chromium: unread counts that follow the room live
// and survive an offline reload, and an own message that goes sent → delivered → read as
// another member's device gets it and they open the room.
import type { BrowserContext } from 'playwright-core';
import { expect, it } from 'vitest';
import { type BrowserSuite, browserSuite } from './support/browser-suite.ts';
import { describeInChromium } from './support/chromium.ts';
import { FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { PHONE_VIEWPORT, saveScreenshot } from './support/screenshots.ts';
import { recordSteps } from './support/steps.ts';

const DESKTOP_VIEWPORT = { width: 1200, height: 800 };

let suite: BrowserSuite;

async function signedIn(
  room: string,
  name: string,
  viewport = DESKTOP_VIEWPORT,
): Promise<{ ferry: FerryPage; context: BrowserContext }> {
  const context = await suite.newContext({ viewport });
  const ferry = await FerryPage.open(context, suite.app.server.url(), room);
  await ferry.pickName(name);
  await ferry.waitForConnection('connected');
  return { ferry, context };
}

/** `data-unread` of a room's link in the list, or null when the room is not listed. */
function unreadOf(ferry: FerryPage, room: string): Promise<string | null> {
  return ferry.page.evaluate(
    (id) =>
      document
        .querySelector(`[data-testid=room-link][data-room="${id}"]`)
        ?.getAttribute('data-unread') ?? null,
    room,
  );
}

function receiptOf(ferry: FerryPage, id: string): Promise<string | null> {
  return ferry.messageRow(id).getAttribute('data-receipt');
}

describeInChromium('rooms and receipts', () => {
  suite = browserSuite('rooms');

  it('counts unread messages in the room list live, and still after an offline reload', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    const { ferry: ada, context } = await signedIn('news', 'Ada');
    const { ferry: grace } = await signedIn('news', 'Grace');
    // Ada goes to another room: "news" stays in her list, kept in sync.
    await ada.page.evaluate(() => {
      location.hash = '#/room/lobby';
    });
    await ada.page.locator('[data-testid=room-link][data-room="lobby"]').waitFor();
    step('ada in lobby, news in her list');

    for (const body of ['first', 'second', 'third']) await grace.send(body);
    await expect.poll(() => unreadOf(ada, 'news'), { timeout: STEP_TIMEOUT_MS }).toBe('3');
    step('3 unread, live');

    await context.setOffline(true);
    await ada.waitForConnection('offline');
    await grace.send('fourth');
    await ada.page.reload();
    await ada.page.getByTestId('room-list').waitFor();
    // Read from the device as the page starts (offline: nothing else could tell it).
    await expect.poll(() => unreadOf(ada, 'news'), { timeout: STEP_TIMEOUT_MS }).toBe('3');
    await saveScreenshot(ada.page, 'rooms-desktop-unread');
    step('3 unread after an offline reload');

    await context.setOffline(false);
    await expect.poll(() => unreadOf(ada, 'news'), { timeout: STEP_TIMEOUT_MS }).toBe('4');
    await ada.page.locator('[data-testid=room-link][data-room="news"]').click();
    await ada.idOf('fourth');
    await expect.poll(() => unreadOf(ada, 'news'), { timeout: STEP_TIMEOUT_MS }).toBe('0');
    step('read once opened');
  });

  it('moves an own message from sent to delivered to read as the other member gets and opens it', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    const { ferry: grace } = await signedIn('plans', 'Grace');
    const { ferry: ada, context } = await signedIn('plans', 'Ada');
    await ada.page.evaluate(() => {
      location.hash = '#/room/lobby';
    });
    await ada.page.locator('[data-testid=room-link][data-room="plans"]').waitFor();
    await context.setOffline(true);
    await ada.waitForConnection('offline');
    step('ada offline in lobby, plans in her list');

    // Stored on the server, on no other member's device yet.
    await grace.send('dinner at 8?');
    const id = await grace.idOf('dinner at 8?');
    await expect.poll(() => grace.message(id).then((m) => m?.status)).toBe('sent');
    expect(await receiptOf(grace, id)).toBe('sent');
    step('sent');

    // Ada's device catches up (the room is kept in sync), but she has not opened the room.
    await context.setOffline(false);
    await expect.poll(() => receiptOf(grace, id), { timeout: STEP_TIMEOUT_MS }).toBe('delivered');
    step('delivered');
    await expect.poll(() => unreadOf(ada, 'plans'), { timeout: STEP_TIMEOUT_MS }).toBe('1');
    await saveScreenshot(grace.page, 'receipts-delivered');

    await ada.page.locator('[data-testid=room-link][data-room="plans"]').click();
    await ada.idOf('dinner at 8?');
    await expect.poll(() => receiptOf(grace, id), { timeout: STEP_TIMEOUT_MS }).toBe('read');
    step('read');
    await saveScreenshot(grace.page, 'receipts-read');
  });

  it('shows a phone the list as its own screen, and the room with a way back', async () => {
    const { ferry: lin } = await signedIn('lobby', 'Lin', PHONE_VIEWPORT);
    expect(await lin.page.getByTestId('room-list').count()).toBe(0);
    await lin.page.getByTestId('rooms-back').click();
    await lin.page.getByTestId('room-list').waitFor();
    expect(await lin.page.getByTestId('composer-input').count()).toBe(0);
    await lin.page.getByTestId('room-create-name').fill('Trip to Oslo');
    await lin.page.getByTestId('room-create-submit').click();
    await lin.page.getByTestId('composer-input').waitFor();
    expect(await lin.page.evaluate(() => location.hash)).toBe('#/room/trip-to-oslo');
    await lin.send('who brings the map?');
    await lin.page.getByTestId('rooms-back').click();
    const link = lin.page.locator('[data-testid=room-link][data-room="trip-to-oslo"]');
    await expect
      .poll(() => link.textContent(), { timeout: STEP_TIMEOUT_MS })
      .toContain('who brings the map?');
    await saveScreenshot(lin.page, 'rooms-phone-list');
  });
});
