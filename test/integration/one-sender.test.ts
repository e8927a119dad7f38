import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import {
  bodies,
  deviceName,
  freezableChannel,
  openDevice,
  sharedProfile,
  type TestDevice,
  waitFor,
} from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { startTestServer, tempDir, withAppend } from '../support/server.ts';

/**
 * Several tabs of one browser profile (engines over one fake-indexeddb database, with one
 * in-memory lock manager and the profile's BroadcastChannel): only one of them sends.
 */
describe('one sender per profile', () => {
  const cleanups = cleanupsAfterEach();

  /** A server that counts, per message id, how many times a `send` batch carried it. */
  async function countingServer() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const sends = new Map<string, number>();
    const batchTimes: number[] = [];
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapStore: (store) =>
        withAppend(store, (room, author, items, nowMs) => {
          batchTimes.push(performance.now());
          for (const { id } of items) sends.set(id, (sends.get(id) ?? 0) + 1);
          return store.appendBatch(room, author, items, nowMs);
        }),
      // Room for a thousand messages at once, and their resends, without waiting.
      serverOptions: { messageRate: { capacity: 100_000, refillPerMinute: 100_000 } },
    });
    cleanups.push(() => server.stop());
    const sendsPerMessage = () =>
      [...sends.values()].reduce((sum, count) => sum + count, 0) / Math.max(1, sends.size);
    return Object.assign(server, { sends, sendsPerMessage, batchTimes });
  }

  async function openTabs(
    url: string | string[],
    count: number,
    options: Parameters<typeof openDevice>[2] & { dbName: string },
  ): Promise<TestDevice[]> {
    const tabs: TestDevice[] = [];
    for (let i = 0; i < count; i++) {
      const tabUrl = Array.isArray(url) ? (url[i] as string) : url;
      const tab = await openDevice(tabUrl, options.dbName, options);
      cleanups.push(() => tab.engine.destroy());
      tabs.push(tab);
    }
    return tabs;
  }

  /** Types `count` messages, taking turns between the tabs; answers the bodies in order. */
  async function typeAcross(tabs: readonly TestDevice[], count: number): Promise<string[]> {
    const typed: string[] = [];
    for (let i = 0; i < count; i++) {
      const body = `message ${i}`;
      await (tabs[i % tabs.length] as TestDevice).engine.send('lobby', body);
      typed.push(body);
    }
    return typed;
  }

  const kinds = (tabs: readonly TestDevice[]) => tabs.map((tab) => tab.engine.leadership.kind);

  it('sends each of 1,000 queued messages about once when three tabs share the profile', async () => {
    const server = await countingServer();
    const profile = sharedProfile('profile');
    const tabs = await openTabs(server.url, 3, {
      ...profile,
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    const typed = await typeAcross(tabs, 1_000);
    for (const tab of tabs) tab.connectivity.set(true);
    await waitFor(
      'all 1,000 to be stored',
      async () => (await server.store.count('lobby')) === 1_000,
    );
    await waitFor('every tab to show all 1,000 sent', () =>
      tabs.every(
        (tab) =>
          tab.engine.outboxCount === 0 &&
          tab.engine.room('lobby').messages.every((message) => message.status === 'sent'),
      ),
    );

    expect(kinds(tabs).sort()).toEqual(['follower', 'follower', 'leader']);
    expect(server.sends.size).toBe(1_000);
    console.info(
      `three tabs: each id sent ${server.sendsPerMessage().toFixed(3)} times on average`,
    );
    expect(server.sendsPerMessage()).toBeLessThanOrEqual(1.1);
    expect(bodies(await server.store.pageAfter('lobby', 0, 1_000))).toEqual(typed);
    // The followers put nothing on the wire.
    const senders = tabs.filter((tab) => tab.engine.diagnostics.batchesSent > 0);
    expect(senders.map((tab) => tab.engine.leadership.kind)).toEqual(['leader']);
  }, 60_000);

  it('hands the sending over when the sender tab closes mid-flush, and the others finish it once, in order', async () => {
    const server = await countingServer();
    const profile = sharedProfile('profile');
    // Small batches, one at a time: the flush of 300 takes 30 round trips, time to cut in.
    const tabs = await openTabs(server.url, 3, {
      ...profile,
      name: 'alice',
      room: 'lobby',
      online: false,
      batchCaps: { maxMessages: 10, maxBytes: 64 * 1024 },
      maxWindowBatches: 1,
    });
    const typed = await typeAcross(tabs, 300);
    const [leader, ...followers] = tabs as [TestDevice, ...TestDevice[]];
    expect(leader.engine.leadership.kind).toBe('leader');
    for (const tab of tabs) tab.connectivity.set(true);
    await waitFor(
      'the flush to be under way',
      async () => (await server.store.count('lobby')) >= 100,
      20_000,
      1,
    );

    const closedAt = performance.now();
    await leader.engine.destroy();
    await waitFor(
      'a follower to take over',
      () => followers.some((tab) => tab.engine.leadership.kind === 'leader'),
      5_000,
      1,
    );
    const tookOverAt = performance.now();
    const heir = followers.find((tab) => tab.engine.leadership.kind === 'leader') as TestDevice;
    await waitFor(
      'the new sender to send',
      () => heir.engine.diagnostics.batchesSent > 0,
      5_000,
      1,
    );
    const firstBatchAt = performance.now();
    await waitFor('all 300 to be stored', async () => (await server.store.count('lobby')) === 300);
    await waitFor('the others to settle', () =>
      followers.every((tab) => tab.engine.outboxCount === 0),
    );

    expect(bodies(await server.store.pageAfter('lobby', 0, 300))).toEqual(typed);
    expect(server.sendsPerMessage()).toBeLessThanOrEqual(1.1);
    console.info(
      `hand-off: lock released → new sender ${(tookOverAt - closedAt).toFixed(1)} ms, ` +
        `→ its first batch ${(firstBatchAt - closedAt).toFixed(1)} ms`,
    );
    expect(firstBatchAt - closedAt).toBeLessThan(1_000);
  }, 60_000);

  it('replaces a frozen sender within about two seconds when another tab has messages waiting', async () => {
    const server = await countingServer();
    const profile = sharedProfile('profile');
    const leaderLink = await FaultProxy.start({ port: server.port });
    cleanups.push(() => leaderLink.stop());
    const leaderChannel = freezableChannel(profile.dbName);
    const leader = await openDevice(leaderLink.url, profile.dbName, {
      ...profile,
      channel: leaderChannel,
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => leader.engine.destroy());
    const [follower] = await openTabs(server.url, 1, { ...profile, room: 'lobby' });
    const tab = follower as TestDevice;
    await waitFor('both to connect', () =>
      [leader, tab].every((t) => t.engine.connection.status === 'connected'),
    );
    expect(kinds([leader, tab])).toEqual(['leader', 'follower']);

    // The browser freezes the sender's page: it neither hears the other tabs nor sends.
    leaderChannel.freeze();
    leaderLink.setMode({ kind: 'blackhole' });
    const sentBeforeFreeze = leader.engine.diagnostics.batchesSent;
    const typedAt = performance.now();
    await tab.engine.send('lobby', 'typed while the sender sleeps');
    await waitFor(
      'the follower to take over',
      () => tab.engine.leadership.kind === 'leader',
      3_000,
    );
    const tookOverMs = performance.now() - typedAt;
    await waitFor(
      'the message to be stored',
      async () => (await server.store.count('lobby')) === 1,
      3_000,
    );
    console.info(`frozen sender replaced ${tookOverMs.toFixed(0)} ms after a message was typed`);
    expect(tookOverMs).toBeGreaterThan(900);
    expect(tookOverMs).toBeLessThan(2_000);

    // The old sender heard its lock go, and sends nothing more, even once it thaws.
    expect(leader.engine.leadership.kind).toBe('follower');
    leaderLink.setMode({ kind: 'pass' });
    await tab.engine.send('lobby', 'after the thaw');
    await waitFor('both to be stored', async () => (await server.store.count('lobby')) === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(leader.engine.diagnostics.batchesSent).toBe(sentBeforeFreeze);
  }, 30_000);

  it('lets every tab send, and still stores each message once and in order, where there are no Web Locks', async () => {
    const server = await countingServer();
    const tabs = await openTabs(server.url, 3, {
      dbName: deviceName('profile'),
      locks: null,
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    const typed = await typeAcross(tabs, 200);
    for (const tab of tabs) tab.connectivity.set(true);
    await waitFor('all 200 to be stored', async () => (await server.store.count('lobby')) === 200);
    await waitFor('every tab to show all 200 sent', () =>
      tabs.every(
        (tab) =>
          tab.engine.outboxCount === 0 &&
          tab.engine.room('lobby').messages.every((message) => message.status === 'sent'),
      ),
    );

    expect(kinds(tabs)).toEqual(['solo', 'solo', 'solo']);
    // Every tab flushed (the work twice over that Web Locks save), and still nothing doubled.
    expect(tabs.filter((tab) => tab.engine.diagnostics.batchesSent > 0).length).toBeGreaterThan(1);
    expect(bodies(await server.store.pageAfter('lobby', 0, 200))).toEqual(typed);
  }, 60_000);
});
