import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { SentMessage } from '../../src/client/types.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import {
  bodies,
  deviceName,
  duplicateIds,
  newestSeq,
  openDevice,
  waitFor,
  wholeRoom,
} from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('gap-free catch-up', () => {
  const cleanups = cleanupsAfterEach();

  async function setup() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    return server;
  }

  it('gives a client that was offline all 1,000 messages it missed, contiguous, once each, in the sender order', async () => {
    const server = await setup();
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(
      () => alice.engine.destroy(),
      () => bob.engine.destroy(),
    );
    await waitFor('both connected', () =>
      [alice, bob].every((d) => d.engine.connection.status === 'connected'),
    );
    await alice.engine.send('lobby', 'before bob left');
    await waitFor(
      'bob to get the first message',
      () => bob.engine.room('lobby').messages.length === 1,
    );

    bob.connectivity.set(false);
    await waitFor('bob offline', () => bob.engine.connection.status === 'offline');
    const typed = Array.from({ length: 1_000 }, (_, i) => `while bob was away ${i}`);
    for (const body of typed) await alice.engine.send('lobby', body);
    await waitFor('alice to flush', () => alice.engine.outboxCount === 0, 30_000);
    expect(bob.engine.room('lobby').messages).toHaveLength(1);

    const started = performance.now();
    bob.connectivity.set(true);
    await waitFor('bob to catch up', () => newestSeq(bob.engine, 'lobby') === 1_001, 30_000);
    console.log(
      `catch-up of 1,000 missed messages: ${(performance.now() - started).toFixed(0)} ms`,
    );

    // The view holds a window of the newest; the device holds the rest, paged in on demand.
    expect(bob.engine.room('lobby').messages.length).toBeLessThan(1_001);
    const view = (await wholeRoom(bob.engine, 'lobby')) as SentMessage[];
    expect(duplicateIds(view)).toEqual([]);
    expect(view.map((m) => m.seq)).toEqual(Array.from({ length: 1_001 }, (_, i) => i + 1));
    expect(bodies(view)).toEqual(bodies(await wholeRoom(alice.engine, 'lobby')));
    expect(bodies(view).slice(1)).toEqual(typed);
  });

  it('catches up when a live message skips ahead of the cursor', async () => {
    const server = await setup();
    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(() => bob.engine.destroy());
    await waitFor('bob connected and joined', () => bob.engine.connection.status === 'connected');
    await waitFor(
      'bob joined',
      () => server.server.io.sockets.adapter.rooms.get('lobby')?.size === 1,
    );

    // Five messages land in the store without a broadcast: bob's cursor cannot know of them.
    const silent = Array.from({ length: 5 }, (_, i) => ({
      id: newMessageId(),
      body: `silent ${i}`,
    }));
    await server.store.appendBatch(
      'lobby',
      { id: 'user-carol', name: 'carol' },
      silent,
      Date.now(),
    );
    expect(bob.engine.room('lobby').messages).toHaveLength(0);

    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => alice.engine.destroy());
    await alice.engine.send('lobby', 'live, seq 6');

    await waitFor('bob to fill the gap', () => bob.engine.room('lobby').messages.length === 6);
    const view = bob.engine.room('lobby').messages as SentMessage[];
    expect(view.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bodies(view)).toEqual([
      'silent 0',
      'silent 1',
      'silent 2',
      'silent 3',
      'silent 4',
      'live, seq 6',
    ]);
  });
});
