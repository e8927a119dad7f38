// What is typed and not sent yet is the room's draft: a reload or a trip to another room
// finds it again.
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium, launchChromium } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';
import { recordSteps } from './support/steps.ts';

let app: ServedApp;
let browser: Browser;
let context: BrowserContext;

describeInChromium('drafts', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('drafts');
    browser = await launchChromium();
    context = await browser.newContext();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.dispose();
  });

  it('keeps a half-written message across a reload and a trip to another room', async () => {
    const step = recordSteps(() => `server log:\n${app.server.log.join('\n')}`);
    const ada = await FerryPage.open(context, app.server.url(), 'drafts');
    await ada.pickName('Ada');
    const input = ada.page.getByTestId('composer-input');
    await input.fill('half a thought, not sent yet');
    step('typed');

    await ada.page.reload();
    await expect(input.inputValue()).resolves.toBe('half a thought, not sent yet');
    step('reloaded');

    await ada.page.evaluate(() => {
      window.location.hash = '#/room/elsewhere';
    });
    await expect.poll(() => input.getAttribute('placeholder')).toBe('Message #elsewhere');
    expect(await input.inputValue()).toBe('');
    await ada.page.goBack();
    await expect.poll(() => input.getAttribute('placeholder')).toBe('Message #drafts');
    expect(await input.inputValue()).toBe('half a thought, not sent yet');
    step('back from another room');
  });
});
