import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../test/e2e/support/app-build.ts';
import { launchChromium } from '../test/support/chromium-binary.ts';
import type { BenchConfig } from './config.ts';
import { uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { spawnServer } from './servers/spawn.ts';

/** Generous: the 100,000-message room is written and loaded on a shared 2-core machine. */
const STEP_TIMEOUT_MS = 120_000;
/** How long the large room gets to show its latest message after its first rows. */
const BIG_ROOM_WINDOW_MS = 5_000;
/** The key the render probe (see `installRenderProbe`) reads its target message id from. */
const PROBE_TARGET_KEY = 'ferry-bench-render-target';
/** What the app's engine names its IndexedDB database and stores (src/client/local-db.ts). */
const APP_DB = {
  name: 'ferry',
  messages: 'messages',
  rooms: 'rooms',
  roomMeta: 'roomMeta',
} as const;

declare global {
  interface Window {
    /** Set by the render probe: ms since navigation start (see `installRenderProbe`). */
    ferryBenchProbe?: RenderProbe;
  }
}

/** What the render probe saw in one document. */
interface RenderProbe {
  /** When the first message row entered the DOM. */
  firstRowMs: number | null;
  /** When the target message's row entered the DOM. */
  targetMs: number | null;
  /** The most message rows in the DOM at any one time. */
  maxRows: number;
}

/**
 * The JS a first visit must download before the app runs: the entry script and the
 * modules it preloads, as index.html names them; gzip at the default level (6).
 */
export function initialJsGzipBytes(appDir: string): { bytes: number; files: string[] } {
  const html = readFileSync(join(appDir, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"/g)].map((m) => m[1]);
  const preloads = [...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map(
    (m) => m[1],
  );
  const files = [...new Set([...scripts, ...preloads])].filter((file) => file !== undefined);
  const bytes = files.reduce(
    (sum, file) => sum + gzipSync(readFileSync(join(appDir, file.replace(/^\//, '')))).length,
    0,
  );
  return { bytes, files };
}

/** What a first visit's page fetched: bytes on the wire, and the same bodies decoded. */
interface FirstLoadBytes {
  wire: number;
  decoded: number;
}

/**
 * A first visit in a fresh context, until the name prompt is up: the bytes its page
 * fetched over the network (headers and compressed bodies, as Chromium counts them) and
 * the bodies decoded, which is about what the same load costs with nothing compressed.
 * The service worker's precache, fetched afterwards by the worker, is not in it.
 */
async function firstLoadBytes(context: BrowserContext, url: string): Promise<FirstLoadBytes> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let wire = 0;
  let decoded = 0;
  cdp.on('Network.dataReceived', (event) => {
    decoded += event.dataLength;
  });
  cdp.on('Network.loadingFinished', (event) => {
    wire += event.encodedDataLength;
  });
  await page.goto(url);
  await page.getByTestId('name-input').waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.waitForLoadState('networkidle');
  await page.close();
  return { wire, decoded };
}

/**
 * In every document of the context, from its first script on: records when message rows
 * appear, when the message named in localStorage[PROBE_TARGET_KEY] does, and the most rows
 * the DOM ever held.
 */
async function installRenderProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript((key) => {
    const target = localStorage.getItem(key);
    if (!target) return;
    const probe: RenderProbe = { firstRowMs: null, targetMs: null, maxRows: 0 };
    window.ferryBenchProbe = probe;
    const targetSelector = `[data-testid="message"][data-id="${target}"]`;
    new MutationObserver(() => {
      const rows = document.querySelectorAll('[data-testid="message"]').length;
      probe.maxRows = Math.max(probe.maxRows, rows);
      if (rows > 0 && probe.firstRowMs === null) probe.firstRowMs = performance.now();
      if (probe.targetMs === null && document.querySelector(targetSelector)) {
        probe.targetMs = performance.now();
      }
    }).observe(document, { childList: true, subtree: true });
  }, PROBE_TARGET_KEY);
}

/**
 * Reloads with the probe aimed at `target` and waits for the target's row, at most
 * `windowMs` after the first rows showed (then the probe says what it saw so far).
 */
async function reloadAndProbe(page: Page, target: string, windowMs: number): Promise<RenderProbe> {
  await page.evaluate(({ key, id }) => localStorage.setItem(key, id), {
    key: PROBE_TARGET_KEY,
    id: target,
  });
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.ferryBenchProbe?.firstRowMs, null, {
    timeout: STEP_TIMEOUT_MS,
  });
  await page
    .waitForFunction(() => window.ferryBenchProbe?.targetMs, null, { timeout: windowMs })
    .catch(() => undefined);
  const probe = await page.evaluate(() => window.ferryBenchProbe);
  if (!probe) throw new Error('the render probe did not run');
  return probe;
}

async function waitForConnection(page: Page, state: string): Promise<void> {
  await page
    .locator(`[data-testid=connection-status][data-state=${state}]`)
    .waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS });
}

async function waitForMessage(page: Page, id: string): Promise<void> {
  await page
    .locator(`[data-testid=message][data-id="${id}"]`)
    .waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS });
}

/**
 * Writes `count` sent messages of `room` straight into the app's IndexedDB (one
 * transaction), with the room's cursor at the last and everything read: what a device
 * that followed a busy room for months holds (it opens at its newest message). Answers the
 * last message's id.
 */
async function seedAppDatabase(page: Page, room: string, count: number): Promise<string> {
  return page.evaluate(
    async ({ db: names, room, count }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(names.name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction([names.messages, names.rooms, names.roomMeta], 'readwrite');
      const messages = tx.objectStore(names.messages);
      const start = Date.now() - count * 1_000;
      let lastId = '';
      for (let seq = 1; seq <= count; seq++) {
        lastId = `01900000-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`;
        messages.put({
          id: lastId,
          room,
          authorId: 'bench-author',
          author: 'someone',
          body: `message ${seq}: on my way, the train is late again, see you at the usual place`,
          status: 'sent',
          seq,
          ts: start + seq * 1_000,
        });
      }
      tx.objectStore(names.rooms).put({ room, cursor: count, floor: 1 });
      tx.objectStore(names.roomMeta).put({
        room,
        name: room,
        addedAt: start,
        read: count,
        unreadFloor: 0,
        readAcked: count,
        deliveredAcked: count,
        othersDelivered: 0,
        othersRead: 0,
      });
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return lastId;
    },
    { db: APP_DB, room, count },
  );
}

/** Benchmark 6: the app's initial JS, its warm offline start, and a very large room. */
export async function benchApp(config: BenchConfig): Promise<ReportRow[]> {
  const { storedMessages, bigRoomMessages, startReps } = config.app;
  const build = await buildApp('bench');
  const server = await spawnServer('ferry', { staticDir: build.dir });
  const browser = await launchChromium();
  try {
    const initialJs = initialJsGzipBytes(build.dir);
    const fresh = await browser.newContext();
    const firstLoad = await firstLoadBytes(fresh, `${server.url}/#/room/${uniqueRoom('first')}`);
    await fresh.close();
    const context = await browser.newContext();
    await installRenderProbe(context);
    const page = await context.newPage();

    // A device that has followed the room: signed up, served by its service worker, and
    // holding `storedMessages` messages (caught up after a spell offline).
    const room = uniqueRoom('app');
    await server.seed(room, 1);
    await page.goto(`${server.url}/#/room/${room}`);
    await page.getByTestId('name-input').fill('bench');
    await page.getByTestId('name-submit').click();
    await waitForConnection(page, 'connected');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
      timeout: STEP_TIMEOUT_MS,
    });
    await context.setOffline(true);
    await waitForConnection(page, 'offline');
    const missed = await server.seed(room, storedMessages);
    const last = missed.at(-1)?.id ?? '';
    await context.setOffline(false);
    await waitForMessage(page, last);

    // Warm offline start: airplane mode, reload (served by the service worker), until the
    // latest message is on screen. The first reload warms the caches and is not counted.
    await context.setOffline(true);
    await reloadAndProbe(page, last, STEP_TIMEOUT_MS);
    const starts: RenderProbe[] = [];
    for (let rep = 0; rep < startReps; rep++) {
      starts.push(await reloadAndProbe(page, last, STEP_TIMEOUT_MS));
    }

    // A very large room, from this device's storage, still offline.
    const bigRoom = uniqueRoom('big');
    const bigLast = await seedAppDatabase(page, bigRoom, bigRoomMessages);
    await page.evaluate((hash) => {
      location.hash = hash;
    }, `#/room/${bigRoom}`);
    // The first reload opens it for the first time (it joins the list); then as many
    // measured reloads as for the 1,000-message room.
    const big = await reloadAndProbe(page, bigLast, BIG_ROOM_WINDOW_MS);
    const bigStarts: RenderProbe[] = [];
    for (let rep = 0; rep < startReps; rep++) {
      bigStarts.push(await reloadAndProbe(page, bigLast, BIG_ROOM_WINDOW_MS));
    }
    await context.close();

    const stored = storedMessages.toLocaleString('en');
    const bigCount = bigRoomMessages.toLocaleString('en');
    const ms = (value: number | null) => value ?? Number.NaN;
    return [
      makeRow({
        name: `app: initial JS, gzip (${initialJs.files.length} file${initialJs.files.length === 1 ? '' : 's'})`,
        unit: 'KB',
        better: 'lower',
        ferry: [initialJs.bytes / 1024],
        goal: { text: '<= 90 KB', criteria: [{ figure: 'ferry', op: '<=', value: 90 }] },
      }),
      makeRow({
        name: 'app: bytes over the wire on a first load (to the name prompt) vs the same decoded',
        unit: 'KB',
        better: 'lower',
        ferry: [firstLoad.wire / 1024],
        baseline: [firstLoad.decoded / 1024],
      }),
      makeRow({
        name: `app: warm offline start to rendered history (latest msg shown), ${stored} stored msgs`,
        unit: 'ms',
        better: 'lower',
        ferry: starts.map((start) => ms(start.targetMs)),
        goal: { text: '<= 100 ms', criteria: [{ figure: 'ferry', op: '<=', value: 100 }] },
      }),
      makeRow({
        name: `app: warm offline start to first message rows, ${stored} stored msgs`,
        unit: 'ms',
        better: 'lower',
        ferry: starts.map((start) => ms(start.firstRowMs)),
      }),
      makeRow({
        name: `app: most message rows in the DOM, ${bigCount}-message room`,
        unit: 'rows',
        better: 'lower',
        ferry: [big.maxRows],
        goal: { text: '<= 200 rows', criteria: [{ figure: 'ferry', op: '<=', value: 200 }] },
      }),
      makeRow({
        name: `app: ${bigCount}-message room offline, to first message rows`,
        unit: 'ms',
        better: 'lower',
        ferry: bigStarts.map((start) => ms(start.firstRowMs)),
      }),
      makeRow({
        name: `app: ${bigCount}-message room offline, to latest msg shown, vs a ${stored}-message room (NaN: not within ${BIG_ROOM_WINDOW_MS / 1_000} s of the first rows)`,
        unit: 'ms',
        better: 'lower',
        ferry: bigStarts.map((start) => ms(start.targetMs)),
        baseline: starts.map((start) => ms(start.targetMs)),
        goal: {
          text: '<= 150 ms and <= 1.5x',
          criteria: [
            { figure: 'ferry', op: '<=', value: 150 },
            { figure: 'ratio', op: '<=', value: 1.5 },
          ],
        },
      }),
    ];
  } finally {
    await browser.close();
    await server.stop();
    build.dispose();
  }
}
