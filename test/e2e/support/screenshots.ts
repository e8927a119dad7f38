import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './app-build.ts';

/** A phone-sized window (iPhone 12 to 15), as the screenshots in docs/ show the app. */
export const PHONE_VIEWPORT = { width: 390, height: 844 };

/**
 * With FERRY_E2E_SCREENSHOTS=1 the tests save the steps docs/pwa.md shows, under
 * docs/screenshots/; otherwise nothing is written, so a test run leaves the tree clean.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (!process.env.FERRY_E2E_SCREENSHOTS) return;
  const dir = join(REPO_ROOT, 'docs/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
