import { alternate } from './alternate.ts';
import type { BenchConfig } from './config.ts';
import { disposeDevice, offlineDeviceInRoom, uniqueRoom, untilEngine } from './devices.ts';
import { caughtUp } from './engine-wait.ts';
import { asSent, bulkPutMs, putPerMessageMs } from './idb-baselines.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { type BenchServer, spawnServer } from './servers/spawn.ts';

const CATCH_UP_TIMEOUT_MS = 120_000;
let baselineDbCounter = 0;

/**
 * Ferry in Node over fake-indexeddb: a device that was in the room misses `messages` while
 * offline. Timed from the online signal until every one is stored and in the room view.
 */
async function ferryCatchUp(server: BenchServer, messages: number): Promise<number> {
  const room = uniqueRoom('catch-up');
  await server.seed(room, 1);
  const device = await offlineDeviceInRoom(server.url, room, { label: 'catcher', storedBefore: 1 });
  try {
    await server.seed(room, messages);
    const start = performance.now();
    device.connectivity.set(true);
    await untilEngine(
      device.engine,
      'the catch-up',
      caughtUp(room, messages + 1),
      CATCH_UP_TIMEOUT_MS,
    );
    return performance.now() - start;
  } finally {
    await disposeDevice(device, device.dbName);
  }
}

function baselineDb(): string {
  baselineDbCounter += 1;
  return `bench-baseline-${process.pid}-${baselineDbCounter}`;
}

/** Rows comparing one Ferry sample set against the two IndexedDB baselines. */
export function catchUpRows(
  where: string,
  messages: number,
  samples: { ferry: number[]; bulk: number[]; perMessage: number[] },
  goal: boolean,
): ReportRow[] {
  const what = `catch-up: ${messages.toLocaleString('en')} missed msgs, ${where}`;
  return [
    makeRow({
      name: `${what}, vs one bulk put`,
      unit: 'ms',
      better: 'lower',
      ferry: samples.ferry,
      baseline: samples.bulk,
      goal: goal
        ? { text: '<= 1.3x the bulk put', criteria: [{ figure: 'ratio', op: '<=', value: 1.3 }] }
        : undefined,
    }),
    makeRow({
      name: `${what}, vs one transaction per message`,
      unit: 'ms',
      better: 'lower',
      ferry: samples.ferry,
      baseline: samples.perMessage,
    }),
  ];
}

/** Benchmark 2, in Node: Ferry's catch-up over fake-indexeddb against plain IndexedDB writes. */
export async function benchCatchUpNode(config: BenchConfig): Promise<ReportRow[]> {
  const { messages } = config.catchUp;
  const server = await spawnServer('ferry');
  try {
    const records = asSent(await server.seed(uniqueRoom('catch-up-records'), messages));
    const samples = await alternate(
      config.reps,
      {
        ferry: () => ferryCatchUp(server, messages),
        bulk: () => bulkPutMs(baselineDb(), records),
        perMessage: () => putPerMessageMs(baselineDb(), records),
      },
      { warmUp: ['ferry', 'bulk'] },
    );
    return catchUpRows('Node + fake-indexeddb', messages, samples, false);
  } finally {
    await server.stop();
  }
}
