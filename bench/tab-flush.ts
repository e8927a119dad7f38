import { MemoryLocks } from '../src/client/memory-locks.ts';
import { openDevice, type TestDevice } from '../test/support/engine.ts';
import { FaultProxy } from '../test/support/fault-proxy.ts';
import { alternate } from './alternate.ts';
import type { BenchConfig } from './config.ts';
import {
  chatBody,
  disposeDevice,
  offlineDeviceInRoom,
  uniqueRoom,
  untilEngine,
} from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { spawnServer } from './servers/spawn.ts';

/**
 * Tabs of one profile (one database, one lock manager, the profile's BroadcastChannel),
 * each on its own link, come online with `messages` queued, typed across the tabs in turn.
 * Answers the bytes the tabs sent between the online signal and every tab showing the
 * outbox flushed: the sending, plus each tab's handshake, joins and heartbeats.
 */
async function bytesToFlush(
  serverPort: number,
  seed: (room: string) => Promise<unknown>,
  messages: number,
  tabCount: number,
) {
  const room = uniqueRoom('tabs');
  await seed(room);
  const links = await Promise.all(
    Array.from({ length: tabCount }, () => FaultProxy.start({ port: serverPort })),
  );
  const locks = new MemoryLocks();
  const [firstLink, ...otherLinks] = links as [FaultProxy, ...FaultProxy[]];
  const first = await offlineDeviceInRoom(firstLink.url, room, {
    label: 'tabs',
    storedBefore: 1,
    locks,
  });
  const tabs: TestDevice[] = [first];
  try {
    for (const link of otherLinks) {
      tabs.push(await openDevice(link.url, first.dbName, { locks, room, online: false }));
    }
    for (let i = 0; i < messages; i++) {
      await (tabs[i % tabs.length] as TestDevice).engine.send(room, chatBody(i));
    }
    for (const link of links) link.upBytes = 0;
    for (const tab of tabs) tab.connectivity.set(true);
    for (const tab of tabs) {
      await untilEngine(
        tab.engine,
        'every tab to show the outbox flushed',
        (engine) =>
          engine.outboxCount === 0 &&
          engine.room(room).messages.every((message) => message.status === 'sent'),
      );
    }
    return links.reduce((sum, link) => sum + link.upBytes, 0);
  } finally {
    for (const tab of tabs.slice(1)) await tab.engine.destroy();
    await disposeDevice(first, first.dbName);
    await Promise.all(links.map((link) => link.stop()));
  }
}

/** Benchmark 7: what several tabs of one profile put on the wire to flush one outbox. */
export async function benchTabFlush(config: BenchConfig): Promise<ReportRow[]> {
  const { messages, tabs } = config.tabs;
  const server = await spawnServer('ferry');
  const seed = (room: string) => server.seed(room, 1);
  try {
    const samples = await alternate(config.reps, {
      many: () => bytesToFlush(server.port, seed, messages, tabs),
      one: () => bytesToFlush(server.port, seed, messages, 1),
    });
    return [
      makeRow({
        name: `tabs: bytes sent flushing ${messages.toLocaleString('en')} queued msgs, ${tabs} tabs of one profile vs 1 tab`,
        unit: 'bytes',
        better: 'lower',
        ferry: samples.many,
        baseline: samples.one,
        goal: {
          text: '<= 1.1x one tab (ratio <= 1.1)',
          criteria: [{ figure: 'ratio', op: '<=', value: 1.1 }],
        },
      }),
    ];
  } finally {
    await server.stop();
  }
}
