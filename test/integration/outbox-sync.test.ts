import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/client/engine.ts';
import { senderLockName } from '../../src/client/locks.ts';
import { MemoryLocks } from '../../src/client/memory-locks.ts';
import { runOutboxSync } from '../../src/client/outbox-sync.ts';
import { openProfileChannel, type ProfileChange } from '../../src/client/profile-channel.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import {
  allSent,
  bodies,
  deviceName,
  duplicateIds,
  openDevice,
  waitFor,
} from '../support/engine.ts';
import { freePort, startTestServer, tempDir, withAppend } from '../support/server.ts';

/** Long enough for the holds these tests cause; the worker's own bound is HOLD_WAIT_MS. */
const HOLD_WAIT_MS = 10_000;

/**
 * What the service worker does on a Background Sync (src/sw/sw.ts), run in Node over the
 * same parts: the profile's IndexedDB (fake-indexeddb), its channel and locks, and a real
 * server's `POST /api/messages`. The page is "closed": its engine is destroyed first.
 */
describe('the outbox sent with no page open', () => {
  const cleanups = cleanupsAfterEach();

  async function server(
    options: { port?: number; messageRate?: number; appendDelayMs?: number } = {},
  ) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const delayMs = options.appendDelayMs ?? 0;
    const started = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      port: options.port,
      // A slow server keeps each batch on the wire for a while.
      wrapStore: (store) =>
        withAppend(store, async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          return store.appendBatch(...args);
        }),
      serverOptions: options.messageRate
        ? { messageRate: { capacity: options.messageRate, refillPerMinute: 600 } }
        : {},
    });
    cleanups.push(() => started.stop());
    return started;
  }

  /** Types `count` messages offline in a tab of `dbName`, then closes the tab. */
  async function typeOfflineAndClose(url: string, dbName: string, count: number, label: string) {
    const tab = await openDevice(url, dbName, { name: 'alice', room: 'lobby', online: false });
    const typed: string[] = [];
    for (let i = 0; i < count; i++) {
      typed.push(`${label} ${i}`);
      await tab.engine.send('lobby', `${label} ${i}`);
    }
    await tab.engine.destroy();
    return typed;
  }

  /** Another user in the room, who records what arrives live. */
  async function watcher(url: string) {
    const other = await openDevice(url, deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(() => other.engine.destroy());
    await waitFor('bob to connect', () => other.engine.connection.status === 'connected');
    return other.engine;
  }

  /** One worker run over the profile `dbName`, with its own locks unless given others. */
  function syncNow(
    url: string,
    dbName: string,
    options: Partial<Omit<Parameters<typeof runOutboxSync>[0], 'url' | 'dbName'>> = {},
  ) {
    return runOutboxSync({
      dbName,
      url,
      locks: new MemoryLocks(),
      maxHoldWaitMs: HOLD_WAIT_MS,
      ...options,
    });
  }

  async function reopen(url: string, dbName: string, online = true): Promise<Engine> {
    const tab = await openDevice(url, dbName, { room: 'lobby', online });
    cleanups.push(() => tab.engine.destroy());
    return tab.engine;
  }

  it('sends messages typed offline once each, in order, after the page closed; the page shows them sent when it opens', async () => {
    const { url, store } = await server();
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 3, 'from the tunnel');
    const bob = await watcher(url);

    const outcome = await syncNow(url, dbName);

    expect(outcome).toEqual({ kind: 'done', sent: 3, failed: 0 });
    await waitFor('bob to see the three', () => bob.room('lobby').messages.length === 3);
    expect(bodies(bob.room('lobby').messages)).toEqual(typed);
    const stored = await store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(typed);

    const alice = await reopen(url, dbName);
    expect(alice.outboxCount).toBe(0);
    const shown = alice.room('lobby').messages;
    expect(bodies(shown)).toEqual(typed);
    expect(allSent(shown)).toBe(true);
    expect(shown.map((m) => (m.status === 'sent' ? [m.seq, m.ts] : null))).toEqual(
      stored.map((m) => [m.seq, m.ts]),
    );
    await waitFor('alice to connect', () => alice.connection.status === 'connected');
    expect(alice.diagnostics.batchesSent).toBe(0);
    expect(duplicateIds(alice.room('lobby').messages)).toEqual([]);
  });

  it('stops at a server that cannot be reached, keeps every message pending, and sends all 300 once, in order, on the retry', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 300, 'long tunnel');
    const down = await syncNow(url, dbName);
    expect(down).toMatchObject({ kind: 'retry', sent: 0, failed: 0 });

    const { store } = await server({ port });
    const up = await syncNow(url, dbName);
    expect(up).toEqual({ kind: 'done', sent: 300, failed: 0 });
    const stored = await store.pageAfter('lobby', 0, 500);
    expect(bodies(stored)).toEqual(typed);
    expect(duplicateIds(stored)).toEqual([]);
  });

  it('waits out the rate limit within the run and resumes from the first held message', async () => {
    const { url, store } = await server({ messageRate: 40 });
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 60, 'over the limit');

    const outcome = await syncNow(url, dbName);

    expect(outcome).toEqual({ kind: 'done', sent: 60, failed: 0 });
    expect(bodies(await store.pageAfter('lobby', 0, 100))).toEqual(typed);
  });

  it('hands the rest back for a later retry when the server asks to wait longer than the run may', async () => {
    const { url, store } = await server({ messageRate: 40 });
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 60, 'over the limit');

    const outcome = await syncNow(url, dbName, { maxHoldWaitMs: 0 });

    expect(outcome).toMatchObject({ kind: 'retry', sent: 40, failed: 0 });
    expect(bodies(await store.pageAfter('lobby', 0, 100))).toEqual(typed.slice(0, 40));
    // Offline, so that it cannot send any of them before they are counted.
    const alice = await reopen(url, dbName, false);
    expect(alice.outboxCount).toBe(20);
  });

  it('leaves the outbox to an open tab that holds the sender lock and is sending', async () => {
    const { url, store } = await server({ appendDelayMs: 500 });
    const dbName = deviceName('alice');
    const locks = new MemoryLocks();
    const tab = await openDevice(url, dbName, { name: 'alice', room: 'lobby', locks });
    cleanups.push(() => tab.engine.destroy());
    await waitFor('the tab to send, connected', () => tab.engine.connection.status === 'connected');
    await tab.engine.send('lobby', 'on the open tab’s wire');

    const outcome = await syncNow(url, dbName, { locks });

    expect(outcome).toEqual({ kind: 'busy' });
    await waitFor('the tab to send it', () => tab.engine.outboxCount === 0);
    expect(bodies(await store.pageAfter('lobby', 0, 10))).toEqual(['on the open tab’s wire']);
  });

  it('hands back for a retry when the lock is held by a tab without a link', async () => {
    const { url, store } = await server();
    const dbName = deviceName('alice');
    const locks = new MemoryLocks();
    const tab = await openDevice(url, dbName, { name: 'alice', room: 'lobby', locks });
    cleanups.push(() => tab.engine.destroy());
    await waitFor('the tab to be the sender', () => tab.engine.leadership.kind === 'leader');
    tab.connectivity.set(false);
    await waitFor('the tab offline', () => tab.engine.connection.status !== 'connected');
    await tab.engine.send('lobby', 'typed in the open tab');

    const outcome = await syncNow(url, dbName, { locks, lockWaitMs: 300 });

    // It may be hidden, about to be frozen: the browser asks again later.
    expect(outcome).toMatchObject({ kind: 'retry', sent: 0, failed: 0 });
    expect(await store.pageAfter('lobby', 0, 10)).toEqual([]);
    tab.connectivity.set(true);
    await waitFor('the tab to send it', () => tab.engine.outboxCount === 0);
  });

  it('stops before its next batch when a tab takes the lock over, leaving the rest in order to it', async () => {
    const { url, store } = await server({ appendDelayMs: 200 });
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 300, 'taken over');
    const locks = new MemoryLocks();
    const tabSide = openProfileChannel(dbName);
    if (!tabSide) throw new Error('this Node has no BroadcastChannel');
    cleanups.push(() => tabSide.close());
    const firstSettled = new Promise<void>((resolve) =>
      tabSide.subscribe((change) => change.kind === 'messages' && resolve()),
    );

    const run = syncNow(url, dbName, { locks });
    await firstSettled;
    // A tab that did not hear the worker steals the lock, as a follower does.
    await locks.request(senderLockName(dbName), { steal: true }, () => undefined);
    const outcome = await run;

    expect(outcome).toEqual({ kind: 'busy' });
    const alice = await reopen(url, dbName);
    await waitFor('the tab to send the rest', () => alice.outboxCount === 0);
    const stored = await store.pageAfter('lobby', 0, 500);
    expect(bodies(stored)).toEqual(typed);
    expect(duplicateIds(stored)).toEqual([]);
  });

  /** Holds the profile's sender lock as a closing or frozen page does: silently. */
  function holdSilently(locks: MemoryLocks, dbName: string, ms: number) {
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((granted) => {
      void locks.request(senderLockName(dbName), {}, () => {
        granted();
        return new Promise<void>((resolve) => {
          letGo = resolve;
          setTimeout(resolve, ms);
        });
      });
    });
    cleanups.push(() => letGo());
    return held;
  }

  it('waits for the lock of a page that is closing, then sends', async () => {
    const { url, store } = await server();
    const dbName = deviceName('alice');
    const typed = await typeOfflineAndClose(url, dbName, 3, 'as the page closed');
    const locks = new MemoryLocks();
    await holdSilently(locks, dbName, 1_500);

    const outcome = await syncNow(url, dbName, { locks, holderAnswerMs: 200 });

    expect(outcome).toEqual({ kind: 'done', sent: 3, failed: 0 });
    expect(bodies(await store.pageAfter('lobby', 0, 10))).toEqual(typed);
  });

  it('hands back for a retry when a page that does not answer keeps the lock', async () => {
    const { url, store } = await server();
    const dbName = deviceName('alice');
    await typeOfflineAndClose(url, dbName, 3, 'behind a frozen page');
    const locks = new MemoryLocks();
    await holdSilently(locks, dbName, 60_000);

    const outcome = await syncNow(url, dbName, { locks, holderAnswerMs: 200, lockWaitMs: 500 });

    expect(outcome).toMatchObject({ kind: 'retry', sent: 0, failed: 0 });
    expect(await store.pageAfter('lobby', 0, 10)).toEqual([]);
  });

  it('answers the probes of a tab that opens meanwhile, as the sender does, and tells it what it settled', async () => {
    // Slow appends: the run is still sending when the probe comes.
    const { url } = await server({ appendDelayMs: 300 });
    const dbName = deviceName('alice');
    await typeOfflineAndClose(url, dbName, 3, 'probed');
    const locks = new MemoryLocks();
    const heard: ProfileChange[] = [];
    const tabSide = openProfileChannel(dbName);
    if (!tabSide) throw new Error('this Node has no BroadcastChannel');
    cleanups.push(() => tabSide.close());
    tabSide.subscribe((change) => {
      heard.push(change);
      // A follower asks whether the sender is alive once it has heard it took over.
      if (change.kind === 'sender' && heard.length === 1) tabSide.post({ kind: 'probe' });
    });

    const outcome = await syncNow(url, dbName, { locks });

    expect(outcome).toEqual({ kind: 'done', sent: 3, failed: 0 });
    await waitFor('the changes to arrive', () => heard.some((c) => c.kind === 'messages'));
    expect(heard[0]).toEqual({ kind: 'sender', sending: true });
    expect(heard.filter((c) => c.kind === 'sender').length).toBeGreaterThanOrEqual(2);
    // The lock is free again: a tab that asks for it gets it.
    expect(await locks.request(senderLockName(dbName), { ifAvailable: true }, (l) => l)).not.toBe(
      null,
    );
  });

  it('signs up again when the session was revoked, and sends as the same name', async () => {
    const { url, store, server: ferry } = await server();
    const dbName = deviceName('alice');
    const tab = await openDevice(url, dbName, { name: 'alice', room: 'lobby' });
    await waitFor('alice to connect', () => tab.engine.connection.status === 'connected');
    const token = tab.engine.identity?.session?.token ?? '';
    tab.connectivity.set(false);
    await waitFor('alice offline', () => tab.engine.connection.status !== 'connected');
    await tab.engine.send('lobby', 'after sign-out elsewhere');
    await tab.engine.destroy();
    expect(await ferry.revokeSession(token)).toBe(true);

    const outcome = await syncNow(url, dbName);

    expect(outcome).toEqual({ kind: 'done', sent: 1, failed: 0 });
    const stored = await store.pageAfter('lobby', 0, 10);
    expect(stored.map((m) => [m.body, m.author])).toEqual([['after sign-out elsewhere', 'alice']]);
  });
});
