import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import {
  bodies,
  deviceName,
  duplicateIds,
  openDevice,
  sharedProfile,
  type TestDevice,
  waitFor,
} from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { beforeAccounts, startTestServer, tempDir } from '../support/server.ts';

/** Messages queued at once in one tab, for the burst test. */
const BURST = 200;

/** Two tabs of one browser profile: two engines over one IndexedDB database. */
describe('tabs of one profile', () => {
  const cleanups = cleanupsAfterEach();

  async function server(options: { signUpDelayMs?: number } = {}) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = `${dir.path}/ferry.db`;
    const delayMs = options.signUpDelayMs ?? 0;
    let signUps = 0;
    // The server's sign-ups, as slow as asked (a loaded server, say), and counted.
    const started = await startTestServer({
      dbPath,
      wrapAccounts: (accounts) =>
        beforeAccounts(
          beforeAccounts(accounts, 'createUser', () => new Promise((r) => setTimeout(r, delayMs))),
          'signupKeyUser',
          async () => {
            signUps += 1;
          },
        ),
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
    return Object.assign(started, { users, signUps: () => signUps });
  }

  /** Tabs of one profile, with its locks; each is destroyed after the test. */
  async function openTabs(
    url: string,
    count: number,
    options: Parameters<typeof openDevice>[2] & { dbName: string },
  ): Promise<TestDevice[]> {
    const tabs: TestDevice[] = [];
    for (let i = 0; i < count; i++) {
      const tab = await openDevice(url, options.dbName, options);
      cleanups.push(() => tab.engine.destroy());
      tabs.push(tab);
    }
    return tabs;
  }

  /** What a tab shows of the room: each message's id and status, in order. */
  const shown = (tab: TestDevice) =>
    tab.engine.room('lobby').messages.map((message) => `${message.id} ${message.status}`);
  const sameEverywhere = (tabs: readonly TestDevice[]) =>
    tabs.every(
      (tab) =>
        shown(tab).join() === shown(tabs[0] as TestDevice).join() &&
        tab.engine.outboxCount === (tabs[0] as TestDevice).engine.outboxCount,
    );

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

  it('shows a message typed in one tab as pending in the other two within 100 ms, with the same outbox count', async () => {
    const { url } = await server();
    const tabs = await openTabs(url, 3, {
      ...sharedProfile('profile'),
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    for (const [i, typing] of tabs.entries()) {
      const typedAt = performance.now();
      const pending = await typing.engine.send('lobby', `typed in tab ${i + 1}`);
      await waitFor(
        'every tab to show it pending, with the same count',
        () =>
          tabs.every(
            (tab) =>
              tab.engine
                .room('lobby')
                .messages.some(
                  (message) => message.id === pending.id && message.status === 'pending',
                ) && tab.engine.outboxCount === i + 1,
          ),
        1_000,
        1,
      );
      expect(performance.now() - typedAt).toBeLessThan(100);
    }
    expect(sameEverywhere(tabs)).toBe(true);
  });

  it('never shows another tab a message as sent while its outbox count still holds it', async () => {
    const { url } = await server();
    const profile = sharedProfile('profile');
    const tabs = await openTabs(url, 3, {
      ...profile,
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    const seen: string[] = [];
    for (const [i, tab] of tabs.entries()) {
      tab.engine.subscribe(() => {
        const sent = tab.engine.room('lobby').messages.filter((m) => m.status === 'sent').length;
        // One message typed: once it shows sent, nothing is left to send.
        if (sent > 0 && tab.engine.outboxCount > 0) seen.push(`tab ${i + 1}`);
      });
    }
    await tabs[0]?.engine.send('lobby', 'typed offline');
    await waitFor('every tab counts it', () => tabs.every((tab) => tab.engine.outboxCount === 1));
    // Only the first tab's link comes up: the others hear of the send from it alone.
    tabs[0]?.connectivity.set(true);
    await waitFor('every tab shows it sent', () =>
      tabs.every((tab) => tab.engine.room('lobby').messages[0]?.status === 'sent'),
    );
    await waitFor('every tab counts none', () => tabs.every((tab) => tab.engine.outboxCount === 0));
    expect(seen).toEqual([]);
  });

  it('takes in a burst of messages queued in another tab in a few view changes, not one per message', async () => {
    const { url } = await server();
    const [typing, watching] = await openTabs(url, 2, {
      ...sharedProfile('profile'),
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    if (!typing || !watching) throw new Error('two tabs expected');
    let views = 0;
    let emits = 0;
    let last = watching.engine.room('lobby');
    watching.engine.subscribe(() => {
      emits += 1;
      const now = watching.engine.room('lobby');
      if (now !== last) views += 1;
      last = now;
    });
    const burst = Array.from({ length: BURST }, (_, i) => `burst ${i}`);
    await Promise.all(burst.map((body) => typing.engine.send('lobby', body)));
    await waitFor(
      'the watching tab to show the whole burst pending',
      () =>
        watching.engine.room('lobby').messages.filter((m) => m.status === 'pending').length ===
          BURST && watching.engine.outboxCount === BURST,
      5_000,
    );
    expect(bodies(watching.engine.room('lobby').messages)).toEqual(burst);
    // Each view change re-renders the whole list in a browser: one per message is what
    // left a slow tab hundreds of changes behind the outbox it counted.
    expect(views).toBeLessThan(BURST / 10);
    // Nor one outbox count read (and re-render) per message.
    expect(emits).toBeLessThan(BURST / 10);
  });

  it('shows the same statuses in every tab as messages are sent, fail, are retried and discarded', async () => {
    const { url } = await server();
    const tabs = await openTabs(url, 3, {
      ...sharedProfile('profile'),
      name: 'alice',
      room: 'lobby',
    });
    const [, second, third] = tabs as [TestDevice, TestDevice, TestDevice];
    const hello = await second.engine.send('lobby', 'hello');
    const tooLong = await second.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    const statusIn = (tab: TestDevice, id: string) =>
      tab.engine.room('lobby').messages.find((message) => message.id === id)?.status;
    const everywhere = (id: string, status: string | undefined) => () =>
      tabs.every((tab) => statusIn(tab, id) === status) && sameEverywhere(tabs);

    await waitFor('hello to show as sent everywhere', everywhere(hello.id, 'sent'));
    await waitFor('the long one to show as failed everywhere', everywhere(tooLong.id, 'failed'));
    expect(tabs.map((tab) => tab.engine.outboxCount)).toEqual([0, 0, 0]);

    await third.engine.retry('lobby', tooLong.id);
    await waitFor('the retried one to fail again everywhere', everywhere(tooLong.id, 'failed'));
    await third.engine.discard('lobby', tooLong.id);
    await waitFor('the discarded one to be gone everywhere', everywhere(tooLong.id, undefined));
    expect(shown(second)).toEqual([`${hello.id} sent`]);
  });

  it('signs up once, as one user, when two tabs pick a name at the same moment', async () => {
    const { url, users, signUps } = await server({ signUpDelayMs: 200 });
    const [tabA, tabB] = (await openTabs(url, 2, {
      ...sharedProfile('profile'),
      room: 'lobby',
    })) as [TestDevice, TestDevice];
    await Promise.all([tabA.engine.setIdentity('alice'), tabB.engine.setIdentity('bob')]);
    await waitFor('both tabs to connect', () =>
      [tabA, tabB].every((tab) => tab.engine.connection.status === 'connected'),
    );

    expect(users()).toBe(1);
    expect(signUps()).toBe(1);
    expect(tabB.engine.identity).toEqual(tabA.engine.identity);
  });

  it('signs in the other tabs, without a reload, when a name is picked in one', async () => {
    const { url } = await server();
    const [tabA, tabB] = (await openTabs(url, 2, {
      ...sharedProfile('profile'),
      room: 'lobby',
    })) as [TestDevice, TestDevice];
    expect(tabB.engine.identity).toBeNull();

    await tabA.engine.setIdentity('alice');
    await waitFor('the other tab to sign in', () => tabB.engine.connection.status === 'connected');
    expect(tabB.engine.identity?.name).toBe('alice');
    await waitFor(
      'both to hold the same session',
      () => tabB.engine.identity?.session?.token === tabA.engine.identity?.session?.token,
    );
  });
});
