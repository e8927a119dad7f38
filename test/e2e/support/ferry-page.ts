import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** One `[data-testid=message]` as the page shows it. */
export interface ShownMessage {
  id: string;
  status: string;
  author: string;
  text: string;
  /** `data-edited="true"`: the message was edited (or an edit typed here waits). */
  edited: boolean;
  /** `data-deleted="true"`: a "deleted" row (or a delete typed here waits). */
  deleted: boolean;
}

/** How long a step may take before the test fails: generous, since other suites share the CPU. */
export const STEP_TIMEOUT_MS = 15_000;

/**
 * Ferry in one browser tab, driven only through the CONTRACT's data-testids (and the
 * browser's own APIs, e.g. to see which service worker controls the page).
 */
export class FerryPage {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  /**
   * Opens a new tab on `baseUrl` in `room`. `beforeLoad` sees the page before it loads
   * anything, e.g. to watch its WebSockets from the first one.
   */
  static async open(
    context: BrowserContext,
    baseUrl: string,
    room: string,
    options: { beforeLoad?: (page: Page) => void } = {},
  ): Promise<FerryPage> {
    const page = await context.newPage();
    // Every wait of a step is bounded by this, not by Playwright's 30 s default.
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    options.beforeLoad?.(page);
    await page.goto(`${baseUrl}/#/room/${room}`);
    return new FerryPage(page);
  }

  /** The first-visit name prompt. */
  async pickName(name: string): Promise<void> {
    await this.page.getByTestId('name-input').fill(name);
    await this.page.getByTestId('name-submit').click();
    await this.page.getByTestId('composer-input').waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  /** Types `body` and presses Enter; resolves once the composer is empty again (queued). */
  async send(body: string): Promise<void> {
    const input = this.page.getByTestId('composer-input');
    await input.fill(body);
    await input.press('Enter');
    await expect.poll(() => input.inputValue(), { timeout: STEP_TIMEOUT_MS }).toBe('');
  }

  /**
   * Sends many messages through the composer quickly: in the page, each body is typed into
   * composer-input and sent with Enter, and the next waits until the box is empty again.
   */
  async sendMany(bodies: readonly string[]): Promise<void> {
    await this.page.evaluate(async (all) => {
      const input = document.querySelector<HTMLTextAreaElement>('[data-testid=composer-input]');
      if (!input) throw new Error('no composer-input');
      const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')?.set;
      for (const body of all) {
        setValue?.call(input, body);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        const deadline = Date.now() + 10_000;
        while (input.value !== '') {
          if (Date.now() > deadline) throw new Error(`"${body}" was not queued within 10 s`);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
    }, bodies);
  }

  /**
   * The element with this test id as it is right now, without waiting for it: null while
   * it is absent or the page is between two documents. Polls use this, so that one read
   * never blocks past the poll's own timeout.
   */
  async peek(testId: string): Promise<{ text: string; state: string | null } | null> {
    try {
      return await this.page.evaluate((id) => {
        const element = document.querySelector(`[data-testid="${id}"]`);
        return element
          ? { text: element.textContent ?? '', state: element.getAttribute('data-state') }
          : null;
      }, testId);
    } catch {
      return null; // navigating: the old document is gone, the new one not ready
    }
  }

  async connectionState(): Promise<string | null> {
    return (await this.peek('connection-status'))?.state ?? null;
  }

  async waitForConnection(state: string, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
    await expect
      .poll(() => this.connectionState(), { timeout: timeoutMs, interval: 50 })
      .toBe(state);
  }

  /** The outbox count shown, or NaN while it is not on the page. */
  async outboxCount(): Promise<number> {
    const shown = await this.peek('outbox-count');
    return shown ? Number(shown.text) : Number.NaN;
  }

  async messages(): Promise<ShownMessage[]> {
    return this.page.$$eval('[data-testid=message]', (elements) =>
      elements.map((element) => ({
        id: element.getAttribute('data-id') ?? '',
        status: element.getAttribute('data-status') ?? '',
        author: element.getAttribute('data-author') ?? '',
        text: element.textContent ?? '',
        edited: element.getAttribute('data-edited') === 'true',
        deleted: element.getAttribute('data-deleted') === 'true',
      })),
    );
  }

  /** The message `id` as shown now, or undefined while there is no row for it. */
  async message(id: string): Promise<ShownMessage | undefined> {
    return (await this.messages()).find((message) => message.id === id);
  }

  /** The id of the message whose text carries `body`, once it shows. */
  async idOf(body: string): Promise<string> {
    let id: string | undefined;
    await expect
      .poll(
        async () => {
          id = (await this.messages()).find((message) => message.text.includes(body))?.id;
          return id;
        },
        { timeout: STEP_TIMEOUT_MS },
      )
      .toBeDefined();
    return id ?? '';
  }

  /**
   * Scrolls the room up until it holds everything older (the list opens with a window of
   * the newest messages and pages older ones in as the reader scrolls up).
   */
  async scrollToOldest(): Promise<void> {
    await expect
      .poll(
        () =>
          this.page.evaluate(async () => {
            const scroller = document.querySelector('.messages');
            if (scroller) scroller.scrollTop = 0;
            await new Promise((resolve) => setTimeout(resolve, 50));
            return document.querySelector('[data-testid=load-older]') === null;
          }),
        { timeout: STEP_TIMEOUT_MS, interval: 100 },
      )
      .toBe(true);
  }

  /** The row of the message `id`. */
  messageRow(id: string): Locator {
    return this.page.locator(`[data-testid=message][data-id="${id}"]`);
  }

  /**
   * Presses Edit on the message `id`, types `body` over its text in the composer and saves
   * with Enter; resolves once its row shows `body`.
   */
  async editMessage(id: string, body: string): Promise<void> {
    await this.messageRow(id).getByTestId('message-edit').click();
    const input = this.page.getByTestId('composer-input');
    await input.fill(body);
    await input.press('Enter');
    await expect
      .poll(async () => (await this.message(id))?.text, { timeout: STEP_TIMEOUT_MS })
      .toContain(body);
  }

  /** Presses Delete on the message `id` and confirms; resolves once it is deleted or gone. */
  async deleteMessage(id: string): Promise<void> {
    const row = this.messageRow(id);
    await row.getByTestId('message-delete').click();
    await row.getByTestId('confirm-delete').click();
    await expect
      .poll(async () => (await this.message(id))?.deleted ?? 'gone', { timeout: STEP_TIMEOUT_MS })
      .not.toBe(false);
  }

  /** Waits until a service worker controls this page (the offline shell is in place). */
  async waitForServiceWorkerControl(): Promise<void> {
    await this.page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
      timeout: STEP_TIMEOUT_MS,
    });
  }

  /** The build this tab runs (`<html data-build>`). */
  async buildId(): Promise<string | null> {
    try {
      return await this.page.evaluate(() => document.documentElement.dataset.build ?? null);
    } catch {
      return null; // navigating
    }
  }
}

/**
 * The messages whose text carries one of `bodies`, as [body, status] in page order: every
 * copy shows, so a duplicate or a reordering makes the list differ from the expected one.
 */
export function bodiesShown(
  messages: readonly ShownMessage[],
  bodies: readonly string[],
): [string, string][] {
  const shown: [string, string][] = [];
  for (const message of messages) {
    const body = bodies.find((candidate) => message.text.includes(candidate));
    if (body !== undefined) shown.push([body, message.status]);
  }
  return shown;
}
