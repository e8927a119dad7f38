import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { describe } from 'vitest';

import { CHROMIUM_PATH, QUIET_ARGS } from '../../support/chromium-binary.ts';

export { CHROMIUM_PATH, QUIET_ARGS };

const inCi = process.env.CI === 'true' || process.env.CI === '1';
const available = existsSync(CHROMIUM_PATH);

if (!available) {
  const line = '!'.repeat(78);
  console.warn(
    `\n${line}\n${
      inCi
        ? `CI: ${CHROMIUM_PATH} is missing, so the browser tests FAIL. .ci/run installs it.`
        : `SKIPPING the browser (e2e) tests: no Chromium at ${CHROMIUM_PATH}.\n` +
          'Install it with `apt-get update && apt-get install -y chromium`, or set FERRY_CHROMIUM.'
    }\n${line}\n`,
  );
}

/**
 * `describe` for suites that need a real Chromium. Without one they are skipped loudly,
 * except in CI, where they run and fail: CI must never pass without its browser tests.
 */
export const describeInChromium = describe.skipIf(!available && !inCi);

function assertAvailable(): void {
  if (!available) throw new Error(`no Chromium at ${CHROMIUM_PATH} (CI needs it installed)`);
}

/** Headless Chromium; each `newContext()` is a fresh, incognito-like profile. */
export function launchChromium(): Promise<Browser> {
  assertAvailable();
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: QUIET_ARGS });
}

/**
 * Headless Chromium on a real (non-incognito) profile in `userDataDir`, which is what its
 * install checks need: in incognito it refuses to install anything. Site-engagement checks
 * are bypassed so `beforeinstallprompt` fires on a first visit.
 */
export function launchChromiumProfile(userDataDir: string): Promise<BrowserContext> {
  assertAvailable();
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...QUIET_ARGS, '--bypass-app-banner-engagement-checks'],
  });
}
