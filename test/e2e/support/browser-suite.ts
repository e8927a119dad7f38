import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './chromium.ts';
import { type ServedApp, serveFreshBuild } from './served-app.ts';

/** A suite's fresh build of the app, served, and one Chromium to open it in. */
export interface BrowserSuite {
  /** Set once the suite's `beforeAll` has run. */
  readonly app: ServedApp;
  readonly browser: Browser;
  /** A fresh profile (incognito-like), closed after the test that opened it. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/**
 * What most browser suites start with, as hooks of the suite it is called in (inside
 * `describeInChromium`, so a machine without Chromium skips them too): a build served
 * over its own database (`label` names both), one browser, and every context a test
 * opened closed after it.
 */
export function browserSuite(
  label: string,
  options?: Parameters<typeof serveFreshBuild>[1],
): BrowserSuite {
  let app: ServedApp | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    app = await serveFreshBuild(label, options);
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.dispose();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the suite's ${what} is not ready (beforeAll)`);
    return value;
  };
  return {
    get app() {
      return ready(app, 'app');
    },
    get browser() {
      return ready(browser, 'browser');
    },
    async newContext(contextOptions) {
      const context = await ready(browser, 'browser').newContext(contextOptions);
      contexts.push(context);
      return context;
    },
  };
}
