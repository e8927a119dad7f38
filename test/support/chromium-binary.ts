import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); FERRY_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';

/** No sandbox (root in CI), no GPU, and no updates, sync or background traffic of its own. */
export const QUIET_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Headless Chromium through playwright-core (never `npx playwright install`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: QUIET_ARGS });
}
