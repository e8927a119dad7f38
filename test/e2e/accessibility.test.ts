// axe-core over Ferry's main screens in Chromium, in the light and the dark theme: no
// serious or critical violation (contrast, names, roles, labels) on any of them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { type BrowserSuite, browserSuite } from './support/browser-suite.ts';
import { describeInChromium } from './support/chromium.ts';
import { FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);
const SCHEMES = ['light', 'dark'] as const;

let suite: BrowserSuite;

/**
 * The serious and critical violations axe finds on the page as it is now, one line each.
 * axe goes in through `evaluate` (the DevTools protocol), which the page's CSP does not
 * govern; an inline script tag would be refused by `script-src 'self'`.
 */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run(),
  );
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) =>
      violation.nodes.map(
        (node) => `${violation.id} at ${node.target.join(' ')}: ${node.failureSummary ?? ''}`,
      ),
    );
}

async function newContext(colorScheme: (typeof SCHEMES)[number]): Promise<BrowserContext> {
  const context = await suite.newContext({ colorScheme });
  return context;
}

async function signedIn(context: BrowserContext, room: string, name: string): Promise<FerryPage> {
  const ferry = await FerryPage.open(context, suite.app.server.url(), room);
  await ferry.pickName(name);
  await ferry.waitForConnection('connected');
  return ferry;
}

async function waitForStatus(ferry: FerryPage, body: string, status: string): Promise<void> {
  await expect
    .poll(async () => (await ferry.messages()).find((shown) => shown.text.includes(body))?.status, {
      timeout: STEP_TIMEOUT_MS,
    })
    .toBe(status);
}

/**
 * Puts a message the server refused into this device's store, as the engine keeps one. The
 * composer cannot make the server refuse a message (it checks the same limits first).
 */
async function storeFailedMessage(page: Page, room: string, body: string): Promise<void> {
  await page.evaluate(
    ({ room, body }) =>
      new Promise<void>((resolve, reject) => {
        const opening = indexedDB.open('ferry');
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
          const db = opening.result;
          const tx = db.transaction('messages', 'readwrite');
          tx.objectStore('messages').put({
            id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
            room,
            authorId: '',
            author: 'Ada',
            body,
            status: 'failed',
            order: 1_000_000,
            createdAt: Date.now(),
            error: { code: 'body_too_long', reason: 'the message is too long' },
          });
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { room, body },
  );
}

describeInChromium('accessibility of the main screens (axe-core)', () => {
  suite = browserSuite('accessibility');

  it.each(SCHEMES)('the name prompt has no serious or critical violations (%s)', async (scheme) => {
    const ferry = await FerryPage.open(await newContext(scheme), suite.app.server.url(), 'lobby');
    await ferry.page.getByTestId('name-input').waitFor();
    expect(await seriousViolations(ferry.page)).toEqual([]);
  });

  it.each(SCHEMES)(
    'a room showing others’, own sent, pending and failed messages while offline has none (%s)',
    async (scheme) => {
      const room = `a11y-room-${scheme}`;
      const bob = await signedIn(await newContext(scheme), room, 'Bob');
      await bob.send('Hello from Bob');
      await waitForStatus(bob, 'Hello from Bob', 'sent');

      const context = await newContext(scheme);
      const ada = await signedIn(context, room, 'Ada');
      await ada.send('My sent message');
      await waitForStatus(ada, 'My sent message', 'sent');
      await waitForStatus(ada, 'Hello from Bob', 'sent');
      await storeFailedMessage(ada.page, room, 'Refused by the server');
      await ada.page.reload();
      await waitForStatus(ada, 'Refused by the server', 'failed');
      await ada.waitForConnection('connected');

      await context.setOffline(true);
      await ada.waitForConnection('offline');
      await ada.send('Waiting for the network');
      await waitForStatus(ada, 'Waiting for the network', 'pending');
      expect(await ada.outboxCount()).toBe(1);

      expect(await seriousViolations(ada.page)).toEqual([]);
    },
  );

  it.each(SCHEMES)(
    'a room with edited and deleted messages, the composer editing one and a delete asking to confirm, has none (%s)',
    async (scheme) => {
      const room = `a11y-edit-${scheme}`;
      const ada = await signedIn(await newContext(scheme), room, 'Ada');
      await ada.send('Edit me');
      await ada.send('Delete me');
      await ada.send('Keep me');
      for (const body of ['Edit me', 'Delete me', 'Keep me'])
        await waitForStatus(ada, body, 'sent');
      await ada.editMessage(await ada.idOf('Edit me'), 'Edited once');
      await ada.deleteMessage(await ada.idOf('Delete me'));
      await ada
        .messageRow(await ada.idOf('Keep me'))
        .getByTestId('message-edit')
        .click();
      await ada
        .messageRow(await ada.idOf('Edited once'))
        .getByTestId('message-delete')
        .click();
      await ada.page.getByTestId('confirm-delete').waitFor();

      expect(await seriousViolations(ada.page)).toEqual([]);
    },
  );

  it.each(SCHEMES)(
    'a private room’s invite panel, after pressing copy, has none (%s)',
    async (scheme) => {
      const ada = await signedIn(await newContext(scheme), 'lobby', 'Ada');
      await ada.page.getByTestId('new-private-room').click();
      await ada.page.getByTestId('invite-link').waitFor();
      await ada.page.getByTestId('copy-invite').click();
      await ada.page.getByTestId('copy-invite-result').waitFor();
      expect(await seriousViolations(ada.page)).toEqual([]);
    },
  );
});
