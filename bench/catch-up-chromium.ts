import type { Page } from 'playwright-core';
import { launchChromium } from '../test/support/chromium-binary.ts';
import { alternate } from './alternate.ts';
import { buildBenchPage } from './browser/build.ts';
import type {} from './browser/page-api.ts';
import { catchUpRows } from './catch-up.ts';
import type { BenchConfig } from './config.ts';
import { uniqueRoom } from './devices.ts';
import { asSent } from './idb-baselines.ts';
import type { ReportRow } from './rows.ts';
import { type BenchServer, spawnServer } from './servers/spawn.ts';

async function ferryCatchUp(page: Page, server: BenchServer, messages: number) {
  const room = uniqueRoom('chromium-catch-up');
  await server.seed(room, 1);
  await page.evaluate(
    ([room]) => {
      if (!window.ferryBench) throw new Error('the bench page is not loaded');
      return window.ferryBench.prepareOfflineDevice(room, 1);
    },
    [room] as const,
  );
  await server.seed(room, messages);
  return page.evaluate(
    ([room, expected]) => {
      if (!window.ferryBench) throw new Error('the bench page is not loaded');
      return window.ferryBench.catchUpMs(room, expected);
    },
    [room, messages + 1] as const,
  );
}

function baseline(page: Page, kind: 'bulk' | 'perMessage') {
  return page.evaluate((kind) => {
    if (!window.ferryBench) throw new Error('the bench page is not loaded');
    return kind === 'bulk' ? window.ferryBench.bulkPutMs() : window.ferryBench.putPerMessageMs();
  }, kind);
}

/** Benchmark 2, in Chromium: the engine in a page over real IndexedDB, the server in Node. */
export async function benchCatchUpChromium(config: BenchConfig): Promise<ReportRow[]> {
  const { messages } = config.catchUp;
  const pageDir = await buildBenchPage();
  const server = await spawnServer('ferry', { staticDir: pageDir });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`[bench page] ${error.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => window.ferryBench !== undefined);
    const records = asSent(await server.seed(uniqueRoom('chromium-records'), messages));
    await page.evaluate((records) => window.ferryBench?.loadRecords(records), records);
    const samples = await alternate(
      config.reps,
      {
        ferry: () => ferryCatchUp(page, server, messages),
        bulk: () => baseline(page, 'bulk'),
        perMessage: () => baseline(page, 'perMessage'),
      },
      { warmUp: ['ferry', 'bulk'] },
    );
    return catchUpRows(`Chromium ${browser.version()} IndexedDB`, messages, samples, true);
  } finally {
    await browser.close();
    await server.stop();
  }
}
