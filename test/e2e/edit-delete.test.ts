// A user edits and deletes their own messages, online and in airplane mode; what they did
// reaches another user's page, a deleted message stays there as a "deleted" row, and what
// was taken back before it left the device never reaches anyone.
import type { BrowserContext } from 'playwright-core';
import { expect, it } from 'vitest';
import { type BrowserSuite, browserSuite } from './support/browser-suite.ts';
import { describeInChromium } from './support/chromium.ts';
import { FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { recordSteps } from './support/steps.ts';

let suite: BrowserSuite;

async function newContext(): Promise<BrowserContext> {
  const context = await suite.newContext();
  return context;
}

async function signedIn(context: BrowserContext, room: string, name: string): Promise<FerryPage> {
  const ferry = await FerryPage.open(context, suite.app.server.url(), room);
  await ferry.pickName(name);
  await ferry.waitForConnection('connected');
  return ferry;
}

/** Sends `body` and waits until the server has it; answers its id. */
async function sendAndWait(ferry: FerryPage, body: string): Promise<string> {
  await ferry.send(body);
  const id = await ferry.idOf(body);
  await expect
    .poll(async () => (await ferry.message(id))?.status, { timeout: STEP_TIMEOUT_MS })
    .toBe('sent');
  return id;
}

/** The message `id` once it has settled: sent, with no edit or delete of it still waiting. */
async function settled(ferry: FerryPage, id: string) {
  await expect
    .poll(
      async () => {
        const message = await ferry.message(id);
        return message?.status === 'sent' && !/Saving edit…|Deleting…/.test(message.text);
      },
      { timeout: STEP_TIMEOUT_MS },
    )
    .toBe(true);
  return ferry.message(id);
}

/** Every text a message row of the page has shown from now on (an observer in the page). */
async function recordShownTexts(ferry: FerryPage): Promise<() => Promise<string[]>> {
  await ferry.page.evaluate(() => {
    const seen = new Set<string>();
    const note = () => {
      for (const row of document.querySelectorAll('[data-testid=message]')) {
        seen.add(row.textContent ?? '');
      }
    };
    note();
    new MutationObserver(note).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
    });
    (window as { ferrySeenTexts?: Set<string> }).ferrySeenTexts = seen;
  });
  return () =>
    ferry.page.evaluate(() => [
      ...((window as { ferrySeenTexts?: Set<string> }).ferrySeenTexts ?? []),
    ]);
}

const pageText = async (ferry: FerryPage) => (await ferry.page.locator('body').textContent()) ?? '';

describeInChromium('edit and delete', () => {
  suite = browserSuite('edit-delete');

  it('shows an edit and a delete made online on the other user’s page', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    const room = 'edit-online';
    const ada = await signedIn(await newContext(), room, 'Ada');
    const grace = await signedIn(await newContext(), room, 'Grace');
    const lunch = await sendAndWait(ada, 'lunch at noon');
    const secret = await sendAndWait(ada, 'the wifi password is hunter2');
    await grace.idOf('the wifi password is hunter2');
    step('both messages at Grace');

    // Grace has no actions on Ada's messages.
    expect(await grace.messageRow(lunch).getByTestId('message-edit').count()).toBe(0);
    expect(await grace.messageRow(lunch).getByTestId('message-delete').count()).toBe(0);

    await ada.messageRow(lunch).getByTestId('message-edit').click();
    expect(await ada.page.getByTestId('composer-input').inputValue()).toBe('lunch at noon');
    await ada.page.keyboard.press('Escape');
    expect(await ada.page.getByTestId('composer-input').inputValue()).toBe('');
    await ada.editMessage(lunch, 'lunch at one');
    step('edited');
    expect(await settled(ada, lunch)).toMatchObject({ edited: true, deleted: false });
    await expect
      .poll(async () => await grace.message(lunch), { timeout: STEP_TIMEOUT_MS })
      .toMatchObject({
        edited: true,
        deleted: false,
        text: expect.stringContaining('lunch at one'),
      });
    await expect
      .poll(() => pageText(grace), { timeout: STEP_TIMEOUT_MS })
      .not.toContain('lunch at noon');
    step('edit at Grace');

    await ada.deleteMessage(secret);
    expect(await settled(ada, secret)).toMatchObject({ deleted: true });
    await expect
      .poll(async () => (await grace.message(secret))?.deleted, { timeout: STEP_TIMEOUT_MS })
      .toBe(true);
    for (const ferry of [ada, grace]) {
      expect((await ferry.message(secret))?.text).toContain('message deleted');
      // Nowhere on the page: the room list's preview of the room follows within moments.
      await expect
        .poll(() => pageText(ferry), { timeout: STEP_TIMEOUT_MS })
        .not.toContain('hunter2');
    }
    step('delete at Grace');
  });

  it('keeps edits and deletes made offline through a reload, and the other page converges once online', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    const room = 'edit-offline';
    const adaContext = await newContext();
    let ada = await signedIn(adaContext, room, 'Ada');
    await ada.waitForServiceWorkerControl();
    const grace = await signedIn(await newContext(), room, 'Grace');
    const toEdit = await sendAndWait(ada, 'meet at the station');
    const toDelete = await sendAndWait(ada, 'bring the old keys');
    await grace.idOf('bring the old keys');
    const seenAtGrace = await recordShownTexts(grace);
    step('two sent messages at Grace');

    await adaContext.setOffline(true);
    await ada.waitForConnection('offline');
    await ada.editMessage(toEdit, 'meet at the harbour');
    await ada.deleteMessage(toDelete);
    await ada.send('typed offline, first try');
    const rewritten = await ada.idOf('typed offline, first try');
    await ada.editMessage(rewritten, 'typed offline, second try');
    await ada.send('never mind this one');
    const takenBack = await ada.idOf('never mind this one');
    await ada.deleteMessage(takenBack);
    step('edited and deleted offline');

    const offlineState = async () => ({
      edited: await ada.message(toEdit),
      deleted: await ada.message(toDelete),
      rewritten: await ada.message(rewritten),
      takenBack: await ada.message(takenBack),
      outbox: await ada.outboxCount(),
    });
    const expected = {
      edited: {
        status: 'sent',
        edited: true,
        text: expect.stringContaining('meet at the harbour'),
      },
      deleted: { status: 'sent', deleted: true, text: expect.stringContaining('message deleted') },
      // Rewritten in place: no edit of it will ever be sent, so it is not marked edited.
      rewritten: {
        status: 'pending',
        edited: false,
        text: expect.stringContaining('typed offline, second try'),
      },
      takenBack: undefined,
      // The edit, the delete and the rewritten message: the taken-back one left the outbox.
      outbox: 3,
    };
    expect(await offlineState()).toMatchObject(expected);
    expect((await ada.message(toEdit))?.text).toContain('Saving edit…');
    expect((await ada.message(toDelete))?.text).toContain('Deleting…');

    const reloaded = await ada.page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    ada = new FerryPage(ada.page);
    await ada.idOf('typed offline, second try');
    expect(await offlineState()).toMatchObject(expected);
    expect(await ada.connectionState()).toBe('offline');
    // Nothing reached Grace while Ada was offline.
    expect((await grace.message(toEdit))?.text).toContain('meet at the station');
    expect((await grace.message(toDelete))?.deleted).toBe(false);
    step('reloaded offline');

    await adaContext.setOffline(false);
    expect(await settled(ada, toEdit)).toMatchObject({ edited: true });
    expect(await settled(ada, toDelete)).toMatchObject({ deleted: true });
    expect(await settled(ada, rewritten)).toMatchObject({ edited: false });
    step('settled at Ada');

    await expect
      .poll(
        async () => ({
          edited: await grace.message(toEdit),
          deleted: await grace.message(toDelete),
          rewritten: await grace.message(rewritten),
        }),
        { timeout: STEP_TIMEOUT_MS },
      )
      .toMatchObject({
        edited: { edited: true, text: expect.stringContaining('meet at the harbour') },
        deleted: { deleted: true, text: expect.stringContaining('message deleted') },
        rewritten: {
          status: 'sent',
          edited: false,
          text: expect.stringContaining('typed offline, second try'),
        },
      });
    step('converged at Grace');
    expect(await grace.message(takenBack)).toBeUndefined();
    // The room list's preview of the room follows the rows within moments.
    await expect
      .poll(() => pageText(grace), { timeout: STEP_TIMEOUT_MS })
      .not.toMatch(/meet at the station|bring the old keys/);
    const seen = (await seenAtGrace()).join('\n');
    expect(seen).not.toContain('typed offline, first try');
    expect(seen).not.toContain('never mind this one');
  });
});
