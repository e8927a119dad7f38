import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { beforeAccounts, startTestServer, tempDir } from '../support/server.ts';

/** Two tabs of one browser profile: two engines over one IndexedDB database. */
describe('tabs of one profile', () => {
  const cleanups = cleanupsAfterEach();

  async function server(options: { signUpDelayMs?: number } = {}) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = `${dir.path}/ferry.db`;
    const delayMs = options.signUpDelayMs ?? 0;
    // The server's sign-ups, as slow as asked (a loaded server, say).
    const started = await startTestServer({
      dbPath,
      wrapAccounts: (accounts) =>
        beforeAccounts(accounts, 'createUser', () => new Promise((r) => setTimeout(r, delayMs))),
    });
    cleanups.push(() => started.stop());
    /** Users the server has made, read from its database. */
    const users = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    return Object.assign(started, { users });
  }

  it('sign up as one user when a name picked offline is opened in a second tab before the first connection', async () => {
    const { url, store, users } = await server();
    const profile = deviceName('profile');
    const tabA = await openDevice(url, profile, { name: 'alice', room: 'lobby', online: false });
    cleanups.push(() => tabA.engine.destroy());
    const typed = Array.from({ length: 60 }, (_, i) => `typed offline ${i}`);
    for (const body of typed) await tabA.engine.send('lobby', body);
    const tabB = await openDevice(url, profile, { room: 'lobby', online: false });
    cleanups.push(() => tabB.engine.destroy());
    expect(tabB.engine.identity?.name).toBe('alice');

    tabA.connectivity.set(true);
    tabB.connectivity.set(true);
    await waitFor('both tabs to flush', async () => (await store.count('lobby')) === 60);
    await waitFor(
      'both tabs to settle',
      () => tabA.engine.outboxCount === 0 && tabB.engine.outboxCount === 0,
    );

    expect(users()).toBe(1);
    const userId = tabA.engine.identity?.session?.userId;
    expect(userId).toBeTruthy();
    expect(tabB.engine.identity?.session?.userId).toBe(userId);
    const stored = await store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(typed);
    expect(new Set(stored.map((message) => message.authorId))).toEqual(new Set([userId]));
    for (const tab of [tabA, tabB]) {
      const view = tab.engine.room('lobby').messages;
      expect(duplicateIds(view)).toEqual([]);
      expect(view.filter((message) => message.status !== 'sent')).toEqual([]);
    }
  });

  it('never turns a sent message into a failed one, nor lists it twice, across a reload', async () => {
    const { url, port, store } = await server();
    const profile = deviceName('profile');
    const tabA = await openDevice(url, profile, { name: 'alice', room: 'lobby', online: false });
    // Tab B's link is slow: what it sends arrives after tab A has sent and settled it.
    const slowLink = await FaultProxy.start({ port });
    cleanups.push(() => slowLink.stop());
    const tabB = await openDevice(slowLink.url, profile, { room: 'lobby', online: false });
    cleanups.push(
      () => tabA.engine.destroy(),
      () => tabB.engine.destroy(),
    );
    tabA.connectivity.set(true);
    tabB.connectivity.set(true);
    await waitFor(
      'both tabs to connect',
      () =>
        tabA.engine.connection.status === 'connected' &&
        tabB.engine.connection.status === 'connected',
    );
    slowLink.setMode({ kind: 'delay', ms: 300 });
    for (let i = 0; i < 100; i++) await tabB.engine.send('lobby', `message ${i}`);
    await tabA.engine.send('lobby', 'nudge');
    await waitFor('all 101 to be stored', async () => (await store.count('lobby')) === 101);
    await waitFor(
      'both tabs to settle',
      () => tabA.engine.outboxCount === 0 && tabB.engine.outboxCount === 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // late acks of tab B
    for (const tab of [tabA, tabB]) {
      expect(duplicateIds(tab.engine.room('lobby').messages)).toEqual([]);
    }
    await tabA.engine.destroy();
    await tabB.engine.destroy();

    const reloaded = await Engine.create({ url, dbName: profile });
    cleanups.push(() => reloaded.destroy());
    await reloaded.openRoom('lobby');
    const view = reloaded.room('lobby').messages;
    expect(view.filter((message) => message.status === 'failed')).toEqual([]);
    expect(view).toHaveLength(101);
    expect(duplicateIds(view)).toEqual([]);
  });

  it('signs up once when "retry now" is pressed while a slow sign-up is in flight', async () => {
    const { url, store, users } = await server({ signUpDelayMs: 1_000 });
    const device = await openDevice(url, deviceName('alice'), { room: 'lobby' });
    cleanups.push(() => device.engine.destroy());
    await device.engine.setIdentity('alice');
    await device.engine.send('lobby', 'one');
    // The sign-up takes a second; press "retry now" twice meanwhile.
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      device.engine.reconnectNow();
    }
    await device.engine.send('lobby', 'two');
    await waitFor('both to be stored', async () => (await store.count('lobby')) === 2, 20_000);
    await waitFor('the outbox to drain', () => device.engine.outboxCount === 0);
    // Any sign-up the retries started has had time to finish.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stored = await store.pageAfter('lobby', 0, 10);
    expect(users()).toBe(1);
    expect(bodies(stored)).toEqual(['one', 'two']);
    expect(stored[0]?.authorId).toBe(device.engine.identity?.session?.userId);
    expect(stored[1]?.authorId).toBe(stored[0]?.authorId);
    expect(device.engine.room('lobby').messages.every((m) => m.status === 'sent')).toBe(true);
  });

  it("shows in each tab what the other tab queued, and a refusal the other tab's flush received", async () => {
    const { url, store } = await server();
    const profile = deviceName('profile');
    const tabA = await openDevice(url, profile, { name: 'alice', room: 'lobby', online: false });
    const tabB = await openDevice(url, profile, { room: 'lobby', online: false });
    cleanups.push(
      () => tabA.engine.destroy(),
      () => tabB.engine.destroy(),
    );
    const hello = await tabA.engine.send('lobby', 'hello');
    const tooLong = await tabA.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    await waitFor(
      'tab B to show and count what tab A queued',
      () =>
        tabB.engine.room('lobby').messages.some((message) => message.id === tooLong.id) &&
        tabB.engine.outboxCount === 2,
    );

    // Only tab B goes online: its flush sends both, and tab A hears how they ended.
    tabB.connectivity.set(true);
    // The view changes first, the outbox count right after (one more IndexedDB read).
    await waitFor(
      'both to settle in tab A',
      () =>
        tabA.engine.room('lobby').messages.every((message) => message.status !== 'pending') &&
        tabA.engine.outboxCount === 0,
    );
    expect(tabA.engine.room('lobby').messages).toMatchObject([
      { id: hello.id, status: 'sent' },
      { id: tooLong.id, status: 'failed', error: { code: 'body_too_long' } },
    ]);
    expect(bodies(await store.pageAfter('lobby', 0, 10))).toEqual(['hello']);
  });
});
