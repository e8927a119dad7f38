import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/client/engine.ts';
import { LocalStore } from '../../src/client/local-store.ts';
import type { LocalMessage } from '../../src/client/types.ts';
import { StoreUnavailableError } from '../../src/server/store/store-errors.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, newestSeq, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir, withStoreOverrides } from '../support/server.ts';

/** What alice's own message shows: how far the others have got with it. */
function receiptOf(engine: Engine, room: string, message: LocalMessage): string {
  if (message.status !== 'sent') return message.status;
  const { othersRead, othersDelivered } = engine.room(room).receipts;
  return message.seq <= othersRead ? 'read' : message.seq <= othersDelivered ? 'delivered' : 'sent';
}

describe('read receipts and unread counts', () => {
  const cleanups = cleanupsAfterEach();

  /** A server over a temporary database; `wrapStore` changes what its store does. */
  async function setup(wrapStore?: Parameters<typeof startTestServer>[0]['wrapStore']) {
    const dir = tempDir();
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db`, wrapStore });
    cleanups.push(
      () => server.stop(),
      () => dir.dispose(),
    );
    return server;
  }

  /** A member signed in as `name`, in room `r`, connected; destroyed after the test. */
  async function member(url: string, name: string) {
    const device = await openDevice(url, deviceName(name), { name, room: 'r' });
    cleanups.push(() => device.engine.destroy());
    await waitFor(`${name} connected`, () => device.engine.connection.status === 'connected');
    return device;
  }

  it('moves an own message from sent to delivered to read as the other member gets and reads it', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: 'r' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    await alice.engine.send('r', 'are you there?');
    await waitFor('sent', () => newestSeq(alice.engine, 'r') === 1);
    const mine = () => alice.engine.room('r').messages[0] as LocalMessage;
    expect(receiptOf(alice.engine, 'r', mine())).toBe('sent');

    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'r' });
    cleanups.push(() => bob.engine.destroy());
    await waitFor('bob holds it', () => newestSeq(bob.engine, 'r') === 1);
    await waitFor('delivered', () => receiptOf(alice.engine, 'r', mine()) === 'delivered');

    await bob.engine.markRead('r', 1);
    await waitFor('read', () => receiptOf(alice.engine, 'r', mine()) === 'read');
  });

  it('keeps a read cursor raised offline and sends it once the link is back, after a reload', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: 'r' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    for (const body of ['one', 'two', 'three']) await alice.engine.send('r', body);
    await waitFor('all sent', () => newestSeq(alice.engine, 'r') === 3);

    const bobDb = deviceName('bob');
    const bob = await openDevice(server.url, bobDb, { name: 'bob', room: 'r' });
    await waitFor('bob holds them', () => newestSeq(bob.engine, 'r') === 3);
    bob.connectivity.set(false);
    await waitFor('bob offline', () => bob.engine.connection.status === 'offline');
    await bob.engine.markRead('r', 3);
    expect(bob.engine.room('r').receipts.read).toBe(3);
    await bob.engine.destroy();
    expect(alice.engine.room('r').receipts.othersRead).toBe(0);

    const reloaded = await openDevice(server.url, bobDb, { room: 'r' });
    cleanups.push(() => reloaded.engine.destroy());
    expect(reloaded.engine.room('r').receipts.read).toBe(3);
    await waitFor('alice sees it read', () => alice.engine.room('r').receipts.othersRead === 3);
  });

  it('sends a read cursor again after the server could not store it, with nothing else moving', async () => {
    let refusals = 1;
    const server = await setup((store) =>
      withStoreOverrides(store, {
        setCursors: (...args) => {
          const [, , cursors] = args;
          if (cursors.read > 0 && refusals > 0) {
            refusals -= 1;
            return Promise.reject(new StoreUnavailableError(new Error('database restarting')));
          }
          return store.setCursors(...args);
        },
      }),
    );
    const alice = await member(server.url, 'alice');
    const bob = await member(server.url, 'bob');
    await alice.engine.send('r', 'quiet room');
    await waitFor('bob holds it', () => newestSeq(bob.engine, 'r') === 1);
    await bob.engine.markRead('r', 1);
    await waitFor('alice sees it read', () => alice.engine.room('r').receipts.othersRead === 1);
    expect(refusals).toBe(0);
  });

  it('shows a newcomer the room’s history as not unread, without telling the others it was read', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: 'r' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    for (const body of ['one', 'two', 'three']) await alice.engine.send('r', body);
    await waitFor('sent', () => newestSeq(alice.engine, 'r') === 3);

    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'r' });
    cleanups.push(() => bob.engine.destroy());
    await waitFor('bob holds them', () => newestSeq(bob.engine, 'r') === 3);
    expect(bob.engine.room('r').receipts.read).toBe(3);
    await waitFor('bob lists the room', () => bob.engine.rooms()[0]?.room === 'r');
    expect(bob.engine.rooms()[0]?.unread).toBe(0);
    // Delivered to bob's device; not read, since nothing says he looked.
    await waitFor('delivered', () => alice.engine.room('r').receipts.othersDelivered === 3);
    expect(alice.engine.room('r').receipts.othersRead).toBe(0);
    // What comes after his arrival is unread, as ever.
    await alice.engine.send('r', 'four');
    await waitFor('bob counts one unread', () => bob.engine.rooms()[0]?.unread === 1);
  });

  it('keeps unread what came while the server holds no cursor of the user yet, across a reconnect', async () => {
    // The server never stores a cursor: to it, bob stays someone it has no cursor of.
    const server = await setup((store) =>
      withStoreOverrides(store, {
        setCursors: () => Promise.reject(new StoreUnavailableError(new Error('down'))),
      }),
    );
    const alice = await member(server.url, 'alice');
    const bob = await member(server.url, 'bob');
    await alice.engine.send('r', 'one');
    await alice.engine.send('r', 'two');
    await waitFor('bob counts 2 unread', () => bob.engine.rooms()[0]?.unread === 2);
    bob.connectivity.set(false);
    await waitFor('bob offline', () => bob.engine.connection.status === 'offline');
    bob.connectivity.set(true);
    await waitFor('bob back', () => bob.engine.connection.status === 'connected');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bob.engine.room('r').receipts.read).toBe(0);
    expect(bob.engine.rooms()[0]?.unread).toBe(2);
  });

  it('never moves a read cursor back: an older mark is ignored here and on the server', async () => {
    const server = await setup();
    const alice = await member(server.url, 'alice');
    const bob = await member(server.url, 'bob');
    for (const body of ['a', 'b', 'c', 'd']) await alice.engine.send('r', body);
    await waitFor('bob holds them', () => newestSeq(bob.engine, 'r') === 4);
    await bob.engine.markRead('r', 4);
    await bob.engine.markRead('r', 2);
    expect(bob.engine.room('r').receipts.read).toBe(4);
    await waitFor('alice sees 4 read', () => alice.engine.room('r').receipts.othersRead === 4);
    const user = bob.engine.identity?.session?.userId ?? '';
    expect((await server.store.receiptsFor('r', user)).read).toBe(4);
  });

  it('gives every device of a user the same unread count, from the read cursor', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: 'r' });
    const phone = await openDevice(server.url, deviceName('bob-phone'), { name: 'bob', room: 'r' });
    cleanups.push(
      () => alice.engine.destroy(),
      () => phone.engine.destroy(),
    );
    await waitFor('both connected', () =>
      [alice, phone].every((d) => d.engine.connection.status === 'connected'),
    );
    for (let i = 0; i < 5; i++) await alice.engine.send('r', `news ${i}`);
    await waitFor('phone holds them', () => newestSeq(phone.engine, 'r') === 5);
    await waitFor('phone counts 5 unread', () => phone.engine.rooms()[0]?.unread === 5);

    await phone.engine.markRead('r', 3);
    await waitFor('phone counts 2 unread', () => phone.engine.rooms()[0]?.unread === 2);
    // Own messages are never unread.
    await phone.engine.send('r', 'from bob');
    await waitFor('bob sent', () => newestSeq(phone.engine, 'r') === 6);
    await waitFor('the server has the cursor', async () => {
      const user = phone.engine.identity?.session?.userId ?? '';
      return (await server.store.receiptsFor('r', user)).read === 3;
    });

    // The same user on a laptop: the phone's sign-up key makes the same user there.
    const identity = phone.engine.identity;
    if (!identity?.signupKey) throw new Error('the phone has no sign-up key');
    const laptopDb = deviceName('bob-laptop');
    const seed = await LocalStore.open(laptopDb);
    await seed.setIdentity({ name: identity.name, signupKey: identity.signupKey, session: null });
    seed.close();
    const laptop = await openDevice(server.url, laptopDb, { room: 'r' });
    cleanups.push(() => laptop.engine.destroy());
    await waitFor('laptop holds the room', () => newestSeq(laptop.engine, 'r') === 6);
    expect(laptop.engine.identity?.session?.userId).toBe(identity.session?.userId);
    await waitFor('laptop counts 2 unread', () => laptop.engine.rooms()[0]?.unread === 2);
    expect(phone.engine.rooms()[0]?.unread).toBe(2);
  });
});
