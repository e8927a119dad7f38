// The bench page's entry: Ferry's engine over real Chromium IndexedDB, driven from Node.
import { ManualConnectivity } from '../../src/client/connectivity.ts';
import { Engine } from '../../src/client/engine.ts';
import type { SentMessage } from '../../src/client/types.ts';
import { caughtUp, untilEngine } from '../engine-wait.ts';
import { bulkPutMs, deleteDatabase, putPerMessageMs } from '../idb-baselines.ts';
import type { BenchPageApi } from './page-api.ts';

const CATCH_UP_TIMEOUT_MS = 120_000;

let counter = 0;
let records: SentMessage[] = [];
let device: { engine: Engine; connectivity: ManualConnectivity; dbName: string } | null = null;

function nextDbName(label: string): string {
  counter += 1;
  return `bench-${label}-${Date.now()}-${counter}`;
}

async function dispose(): Promise<void> {
  if (!device) return;
  const { engine, dbName } = device;
  device = null;
  await engine.destroy();
  await deleteDatabase(dbName);
}

const api: BenchPageApi = {
  async prepareOfflineDevice(room, storedBefore) {
    await dispose();
    const connectivity = new ManualConnectivity(true);
    const dbName = nextDbName('device');
    const engine = await Engine.create({ url: location.origin, dbName, connectivity });
    device = { engine, connectivity, dbName };
    await engine.setIdentity('chromium');
    await engine.openRoom(room);
    const loaded = caughtUp(room, storedBefore);
    await untilEngine(engine, 'the page device to load the room', (e) =>
      e.connection.status === 'connected' ? loaded(e) : false,
    );
    connectivity.set(false);
    await untilEngine(
      engine,
      'the page device to go offline',
      (e) => e.connection.status === 'offline',
    );
  },
  async catchUpMs(room, expected) {
    if (!device) throw new Error('no device prepared');
    const { engine, connectivity } = device;
    try {
      const start = performance.now();
      connectivity.set(true);
      await untilEngine(engine, 'the catch-up', caughtUp(room, expected), CATCH_UP_TIMEOUT_MS);
      return performance.now() - start;
    } finally {
      await dispose();
    }
  },
  loadRecords(loaded) {
    records = loaded;
  },
  // The browser's profile is thrown away with it: no need to spend time deleting.
  bulkPutMs: () => bulkPutMs(nextDbName('bulk'), records, 'keep'),
  putPerMessageMs: () => putPerMessageMs(nextDbName('per-message'), records, 'keep'),
};

window.ferryBench = api;
