// While a user types in a room, the others there see "… is typing"; it goes as soon as
// their message arrives, or a few seconds after they stop. Nobody sees themselves typing.
import { expect, it } from 'vitest';
import { TYPING_SHOWN_MS } from '../../src/client/typing-board.ts';
import { type BrowserSuite, browserSuite } from './support/browser-suite.ts';
import { describeInChromium } from './support/chromium.ts';
import { FerryPage, STEP_TIMEOUT_MS } from './support/ferry-page.ts';
import { recordSteps } from './support/steps.ts';

/** How soon after the first keystroke the others should see it: one relay, one render. */
const SHOWN_WITHIN_MS = 3_000;
/** How soon the indicator goes once the typist's message is sent: far below the expiry. */
const GONE_ON_MESSAGE_WITHIN_MS = 2_000;
/** How late it may go after the typist stops: the expiry, plus slack for a busy machine. */
const GONE_AFTER_STOP_WITHIN_MS = TYPING_SHOWN_MS + 2_000;

let suite: BrowserSuite;

async function signedIn(room: string, name: string): Promise<FerryPage> {
  const context = await suite.newContext();
  const ferry = await FerryPage.open(context, suite.app.server.url(), room);
  await ferry.pickName(name);
  await ferry.waitForConnection('connected');
  return ferry;
}

/** One change of `[data-testid=typing]`: its text, or null once it is gone; page time. */
interface TypingChange {
  at: number;
  text: string | null;
}

/**
 * Every change of the page's typing indicator from now on, noted in the page as it
 * happens (a MutationObserver), so a brief one is not missed between two polls.
 */
async function watchTyping(ferry: FerryPage): Promise<() => Promise<TypingChange[]>> {
  await ferry.page.evaluate(() => {
    const changes: { at: number; text: string | null }[] = [];
    let last: string | null = null;
    const note = () => {
      const text = document.querySelector('[data-testid=typing]')?.textContent ?? null;
      if (text === last) return;
      last = text;
      changes.push({ at: Date.now(), text });
    };
    note();
    new MutationObserver(note).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
    });
    (window as { ferryTyping?: typeof changes }).ferryTyping = changes;
  });
  return () =>
    ferry.page.evaluate(() => [
      ...((window as { ferryTyping?: { at: number; text: string | null }[] }).ferryTyping ?? []),
    ]);
}

/** The first change at or after `from` that matches, once there is one. */
async function changeAfter(
  changes: () => Promise<TypingChange[]>,
  from: number,
  matches: (text: string | null) => boolean,
  timeoutMs = STEP_TIMEOUT_MS,
): Promise<TypingChange> {
  let found: TypingChange | undefined;
  await expect
    .poll(
      async () => {
        found = (await changes()).find((change) => change.at >= from && matches(change.text));
        return found !== undefined;
      },
      { timeout: timeoutMs, interval: 50 },
    )
    .toBe(true);
  if (!found) throw new Error('unreachable: the poll passed');
  return found;
}

describeInChromium('typing indicator', () => {
  suite = browserSuite('typing');

  it('shows who types to the others, until their message arrives or they stop', async () => {
    const step = recordSteps(() => `server log:\n${suite.app.server.log.join('\n')}`);
    const room = 'typing';
    const grace = await signedIn(room, 'Grace');
    const ada = await signedIn(room, 'Ada');
    // Ada sees Grace's message: both have joined the room, so a signal has someone to reach.
    await grace.send('hello Ada');
    await ada.idOf('hello Ada');
    const atGrace = await watchTyping(grace);
    const atAda = await watchTyping(ada);
    step('both in the room');

    const input = ada.page.getByTestId('composer-input');
    await input.focus();
    const firstKeyAt = Date.now();
    await ada.page.keyboard.type('lunch at noon?');
    const shown = await changeAfter(atGrace, firstKeyAt, (text) => text !== null);
    expect(shown.text).toBe('Ada is typing…');
    expect(shown.at - firstKeyAt).toBeLessThan(SHOWN_WITHIN_MS);
    step(`shown at Grace after ${shown.at - firstKeyAt} ms`);

    const sentAt = Date.now();
    await input.press('Enter');
    const gone = await changeAfter(atGrace, sentAt, (text) => text === null);
    expect(gone.at - sentAt).toBeLessThan(GONE_ON_MESSAGE_WITHIN_MS);
    const message = await grace.message(await grace.idOf('lunch at noon?'));
    expect(message?.author).toBe('Ada');
    step(`gone at Grace ${gone.at - sentAt} ms after the send`);

    // At once, well within TYPING_RENEW_MS of the first burst's signal: a send ends the
    // others' "typing" for Ada, so the next key must say it again.
    const againAt = Date.now();
    await ada.page.keyboard.type('or one?');
    const stoppedAt = Date.now();
    const shownAgain = await changeAfter(atGrace, againAt, (text) => text !== null);
    expect(shownAgain.text).toBe('Ada is typing…');
    step('shown again');
    const expired = await changeAfter(
      atGrace,
      stoppedAt,
      (text) => text === null,
      GONE_AFTER_STOP_WITHIN_MS + 1_000,
    );
    // Gone by the expiry, not sooner: nothing else says Ada stopped.
    expect(expired.at - stoppedAt).toBeGreaterThan(TYPING_SHOWN_MS - 2_000);
    expect(expired.at - stoppedAt).toBeLessThan(GONE_AFTER_STOP_WITHIN_MS);
    step(`gone at Grace ${expired.at - stoppedAt} ms after Ada stopped`);

    // Ada's own page never said she was typing.
    const seenByAda = (await atAda()).map((change) => change.text ?? '');
    expect(seenByAda.filter((text) => text.includes('Ada'))).toEqual([]);
    expect(await ada.peek('typing')).toBeNull();
    expect(await input.inputValue()).toBe('or one?');
  });
});
