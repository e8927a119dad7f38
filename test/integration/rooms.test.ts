import { describe, expect, it } from 'vitest';
import { WINDOW_MESSAGES } from '../../src/client/engine-options.ts';
import { newMessageId } from '../../src/client/ids.ts';
import { LocalStore, UNREAD_CONTEXT } from '../../src/client/local-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, newestSeq, openDevice, sharedProfile, waitFor } from '../support/engine.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('the room list', () => {
  const cleanups = cleanupsAfterEach();

  async function setup() {
    const dir = tempDir();
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(
      () => server.stop(),
      () => dir.dispose(),
    );
    return server;
  }

  it('starts a public room by name offline and lists it with its newest message', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());
    const { room } = await alice.engine.createRoom('Trip to Oslo');
    expect(room).toBe('trip-to-oslo');
    await alice.engine.send(room, 'who brings the map?');
    await waitFor('two rooms listed', () => alice.engine.rooms().length === 2);
    const [newest, other] = alice.engine.rooms();
    expect(newest).toMatchObject({
      room: 'trip-to-oslo',
      name: 'trip-to-oslo',
      unread: 0,
      last: { body: 'who brings the map?', status: 'pending' },
    });
    expect(other?.room).toBe('lobby');
  });

  it('shows a private room under the name its creator gave it, to every member', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    const created = await alice.engine.createRoom('Birthday plans', { private: true });
    expect(created.room).not.toBe('birthday-plans');
    expect(alice.engine.room(created.room).name).toBe('Birthday plans');

    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob' });
    cleanups.push(() => bob.engine.destroy());
    await bob.engine.openRoom(created.room, { invite: created.invite });
    await waitFor(
      'bob sees the name',
      () => bob.engine.room(created.room).name === 'Birthday plans',
    );
    await waitFor('bob lists it', () =>
      bob.engine.rooms().some((summary) => summary.name === 'Birthday plans'),
    );
  });

  it('leaves a room: off the list with what it queued, and a private one needs the invite again', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    const { room, invite } = await alice.engine.createRoom('Secret', { private: true });
    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(() => bob.engine.destroy());
    await bob.engine.openRoom(room, { invite });
    await waitFor('bob joined', () => bob.engine.room(room).name === 'Secret');

    bob.connectivity.set(false);
    await waitFor('bob offline', () => bob.engine.connection.status === 'offline');
    await bob.engine.send(room, 'never mind');
    expect(bob.engine.outboxCount).toBe(1);
    bob.connectivity.set(true);
    await waitFor('bob back', () => bob.engine.connection.status === 'connected');
    // Left before the flush could send it (the outbox is taken with the room).
    await bob.engine.leaveRoom(room);
    expect(bob.engine.outboxCount).toBe(0);
    expect(bob.engine.rooms().map((summary) => summary.room)).toEqual(['lobby']);
    expect(bob.engine.room(room).messages).toEqual([]);

    await bob.engine.openRoom(room);
    await waitFor('bob refused', () => bob.engine.room(room).denied !== null);
  });
});

describe('leaving a room, in every tab', () => {
  const cleanups = cleanupsAfterEach();

  it('stores nothing more of a room left in another tab: its socket leaves too', async () => {
    const dir = tempDir();
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(
      () => server.stop(),
      () => dir.dispose(),
    );
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'news',
    });
    const profile = sharedProfile('bob');
    const tabA = await openDevice(server.url, profile.dbName, {
      name: 'bob',
      room: 'news',
      locks: profile.locks,
    });
    const tabB = await openDevice(server.url, profile.dbName, {
      room: 'news',
      locks: profile.locks,
    });
    cleanups.push(
      () => alice.engine.destroy(),
      () => tabA.engine.destroy(),
      () => tabB.engine.destroy(),
    );
    await alice.engine.send('news', 'before');
    await waitFor('both tabs hold it', () =>
      [tabA, tabB].every((tab) => newestSeq(tab.engine, 'news') === 1),
    );

    await tabA.engine.leaveRoom('news');
    await waitFor('tab B forgets it', () => tabB.engine.room('news').messages.length === 0);
    await waitFor('no socket of bob in the room', () => {
      const sockets = server.server.io.sockets.adapter.rooms.get('news');
      return sockets?.size === 1; // alice's
    });
    await alice.engine.send('news', 'after bob left');
    await waitFor('sent', () => newestSeq(alice.engine, 'news') === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = await LocalStore.open(profile.dbName);
    try {
      const window = await stored.loadWindow('news', 10);
      expect([window.sent.length, window.local.length, window.meta]).toEqual([0, 0, undefined]);
    } finally {
      stored.close();
    }
  });
});

describe('a room opens with a bounded window', () => {
  const cleanups = cleanupsAfterEach();

  async function seeded(count: number): Promise<TestServer> {
    const dir = tempDir();
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(
      () => server.stop(),
      () => dir.dispose(),
    );
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
        id: newMessageId(),
        body: `m${start + i + 1}`,
      }));
      await server.store.appendBatch('big', { id: 'u-carol', name: 'carol' }, batch, Date.now());
    }
    return server;
  }

  it('shows the newest messages after a reload, pages older ones from the device, then the server', async () => {
    const server = await seeded(1_500);
    const dbName = deviceName('bob');
    // A device that holds the room from seq 301 on: its first visit loaded recent history,
    // and the user scrolled up two pages.
    const first = await openDevice(server.url, dbName, { name: 'bob', room: 'big' });
    await waitFor('bob holds the room', () => newestSeq(first.engine, 'big') === 1_500);
    expect(await first.engine.loadOlder('big', 500)).toBe(true);
    expect(await first.engine.loadOlder('big', 500)).toBe(true);
    await first.engine.markRead('big', 1_500);
    await first.engine.destroy();

    const bob = await openDevice(server.url, dbName, { room: 'big', online: false });
    cleanups.push(() => bob.engine.destroy());
    const seqs = () =>
      bob.engine
        .room('big')
        .messages.map((message) => (message.status === 'sent' ? message.seq : 0));
    expect(seqs()).toHaveLength(WINDOW_MESSAGES);
    expect(seqs().at(-1)).toBe(1_500);
    expect(bob.engine.room('big').hasOlder).toBe(true);

    // Offline: older pages come from the device, contiguous, down to what it holds.
    for (let page = 0; page < 10 && (await bob.engine.loadOlder('big', 400)); page++);
    expect(seqs()[0]).toBe(301);
    expect(seqs()).toEqual(Array.from({ length: 1_200 }, (_, i) => 301 + i));
    expect(bob.engine.room('big').hasOlder).toBe(true);

    // Online: the rest comes from the server.
    bob.connectivity.set(true);
    await waitFor('bob connected', () => bob.engine.connection.status === 'connected');
    expect(await bob.engine.loadOlder('big', 400)).toBe(true);
    expect(seqs()[0]).toBe(1);
    expect(bob.engine.room('big').hasOlder).toBe(false);

    // Back at the newest, the view goes back to its window.
    bob.engine.showLatest('big');
    expect(seqs()).toEqual(Array.from({ length: WINDOW_MESSAGES }, (_, i) => 1_301 + i));
    expect(bob.engine.room('big').hasOlder).toBe(true);
  });

  it('keeps every unread message of a room in its view, past the window, in the background and after a reload', async () => {
    const server = await seeded(100);
    const dbName = deviceName('bob');
    const bob = await openDevice(server.url, dbName, { name: 'bob', room: 'big' });
    await waitFor('bob holds the room', () => newestSeq(bob.engine, 'big') === 100);
    await bob.engine.markRead('big', 100);
    // 500 more from alice while bob looks at another room: "big" is kept in sync.
    await bob.engine.openRoom('lobby');
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: 'big' });
    cleanups.push(() => alice.engine.destroy());
    for (let i = 101; i <= 600; i++) await alice.engine.send('big', `m${i}`);
    await waitFor('bob holds all 600', () => newestSeq(bob.engine, 'big') === 600, 30_000);
    const firstSeq = () => {
      const first = bob.engine.room('big').messages[0];
      return first?.status === 'sent' ? first.seq : 0;
    };
    // The first unread message (101) is there, with some read ones above it for context.
    expect(firstSeq()).toBeLessThanOrEqual(101);
    await bob.engine.destroy();

    const reloaded = await openDevice(server.url, dbName, { room: 'big', online: false });
    cleanups.push(() => reloaded.engine.destroy());
    const first = reloaded.engine.room('big').messages[0];
    expect(first?.status === 'sent' ? first.seq : 0).toBe(101 - UNREAD_CONTEXT);
  });
});
