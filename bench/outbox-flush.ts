import { FaultProxy } from '../test/support/fault-proxy.ts';
import { alternate } from './alternate.ts';
import { echoSocket, emitWithRetries } from './baseline-clients.ts';
import type { BenchConfig } from './config.ts';
import {
  chatBody,
  disposeDevice,
  offlineDeviceInRoom,
  uniqueRoom,
  untilEngine,
} from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import type { EchoMessage } from './servers/echo-server.ts';
import { spawnServer } from './servers/spawn.ts';

/** How long the retries baseline waits for one ack before resending it. */
const RETRY_ACK_TIMEOUT_MS = 10_000;
const RETRIES = 3;
/** A generous cap on one repetition; the retries baseline needs ~N round trips. */
const FLUSH_TIMEOUT_MS = 120_000;

/**
 * Ferry: a device that was in the room before has `messages` in its IndexedDB outbox and
 * comes back online. Timed from the online signal to the last message stored as sent.
 */
async function ferryFlush(url: string, seed: (room: string) => Promise<unknown>, messages: number) {
  const room = uniqueRoom('flush');
  await seed(room);
  const device = await offlineDeviceInRoom(url, room, { label: 'flusher', storedBefore: 1 });
  const { engine } = device;
  try {
    for (let i = 0; i < messages; i++) await engine.send(room, chatBody(i));
    const start = performance.now();
    device.connectivity.set(true);
    await untilEngine(
      engine,
      'the outbox to flush',
      (e) =>
        e.outboxCount === 0 && e.room(room).messages.every((message) => message.status === 'sent'),
      FLUSH_TIMEOUT_MS,
    );
    const elapsedMs = performance.now() - start;
    const newest = engine.room(room).messages.at(-1);
    const flushed = newest?.status === 'sent' ? newest.seq - 1 : 0;
    if (flushed !== messages) throw new Error(`flushed ${flushed} of ${messages}`);
    return elapsedMs;
  } finally {
    await disposeDevice(device, device.dbName);
  }
}

function echoMessages(room: string, count: number): EchoMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    room,
    id: `${room}-${i}`,
    body: chatBody(i),
  }));
}

/**
 * socket.io-client's own durable-ish queue: `retries` + `ackTimeout`. Emits made while
 * disconnected wait in the queue, which sends one packet per round trip.
 */
async function retriesFlush(url: string, messages: number): Promise<number> {
  const socket = echoSocket(url, { retries: RETRIES, ackTimeoutMs: RETRY_ACK_TIMEOUT_MS });
  try {
    const acks = echoMessages(uniqueRoom('retries'), messages).map((message) =>
      emitWithRetries(socket, message),
    );
    const start = performance.now();
    socket.connect();
    await withTimeout(Promise.all(acks), FLUSH_TIMEOUT_MS, 'the retries queue');
    return performance.now() - start;
  } finally {
    socket.disconnect();
  }
}

/** The floor: every message in batches, all emitted at once, no storage; until the last ack. */
async function floorFlush(url: string, messages: number, batchMessages: number) {
  const socket = echoSocket(url);
  try {
    const room = uniqueRoom('floor');
    const all = echoMessages(room, messages);
    const acks: Promise<number>[] = [];
    for (let start = 0; start < all.length; start += batchMessages) {
      const batch = { room, messages: all.slice(start, start + batchMessages) };
      acks.push(new Promise((resolve) => socket.emit('batch', batch, resolve)));
    }
    const start = performance.now();
    socket.connect();
    const counts = await withTimeout(Promise.all(acks), FLUSH_TIMEOUT_MS, 'the floor');
    const elapsedMs = performance.now() - start;
    const acked = counts.reduce((sum, count) => sum + count, 0);
    if (acked !== messages) throw new Error(`the floor acked ${acked} of ${messages}`);
    return elapsedMs;
  } finally {
    socket.disconnect();
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Benchmark 1: flushing a queued outbox over a slow link (the fault proxy's delay). */
export async function benchOutboxFlush(config: BenchConfig): Promise<ReportRow[]> {
  const { messages, oneWayDelayMs, floorBatchMessages } = config.flush;
  const ferryServer = await spawnServer('ferry');
  const echoServer = await spawnServer('echo');
  const ferryProxy = await FaultProxy.start({ port: ferryServer.port });
  const echoProxy = await FaultProxy.start({ port: echoServer.port });
  for (const proxy of [ferryProxy, echoProxy]) proxy.setMode({ kind: 'delay', ms: oneWayDelayMs });
  try {
    const samples = await alternate(
      config.reps,
      {
        ferry: () => ferryFlush(ferryProxy.url, (room) => ferryServer.seed(room, 1), messages),
        retries: () => retriesFlush(echoProxy.url, messages),
        floor: () => floorFlush(echoProxy.url, messages, floorBatchMessages),
      },
      { warmUp: ['ferry', 'floor'] },
    );
    const what = `outbox flush: ${messages.toLocaleString('en')} queued msgs @ ${oneWayDelayMs * 2} ms RTT`;
    return [
      makeRow({
        name: `${what} vs socket.io retries+ackTimeout`,
        unit: 'ms',
        better: 'lower',
        ferry: samples.ferry,
        baseline: samples.retries,
        goal: {
          text: '>= 100x faster than retries (ratio <= 0.01)',
          criteria: [{ figure: 'ratio', op: '<=', value: 1 / 100 }],
        },
      }),
      makeRow({
        name: `${what} vs batched fire-and-forget (floor)`,
        unit: 'ms',
        better: 'lower',
        ferry: samples.ferry,
        baseline: samples.floor,
        goal: {
          text: '<= 2x the floor (ratio <= 2)',
          criteria: [{ figure: 'ratio', op: '<=', value: 2 }],
        },
      }),
    ];
  } finally {
    await Promise.all([ferryProxy.stop(), echoProxy.stop()]);
    await Promise.all([ferryServer.stop(), echoServer.stop()]);
  }
}
