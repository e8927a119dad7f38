import { describe, expect, it } from 'vitest';
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
import { startTestServer, tempDir, withAfterAppend } from '../support/server.ts';

describe('flush under connection cuts', () => {
  const cleanups = cleanupsAfterEach();

  it('stores exactly 1,000 messages in send order when the server drops the link twice mid-flush', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    let appends = 0;
    const cuts: number[] = [];
    // After the 3rd and the 7th committed batch, and before their acks leave, the server
    // drops the sender: that batch is stored but unacked and the batches behind it are in
    // flight. The first cut is a socket.io disconnect, the second a raw transport close.
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapStore: (store, current) =>
        withAfterAppend(store, () => {
          appends += 1;
          if (appends !== 3 && appends !== 7) return;
          cuts.push(appends);
          for (const socket of current().io.sockets.sockets.values()) {
            if (appends === 3) socket.disconnect(true);
            else socket.conn.close();
          }
        }),
    });
    cleanups.push(() => server.stop());

    const observer = await openDevice(server.url, deviceName('bob'), {
      name: 'bob',
      room: 'lobby',
    });
    cleanups.push(() => observer.engine.destroy());
    await waitFor('bob to connect', () => observer.engine.connection.status === 'connected');

    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());
    const typed = Array.from({ length: 1_000 }, (_, i) => `message ${i}`);
    for (const body of typed) await alice.engine.send('lobby', body);

    const started = performance.now();
    alice.connectivity.set(true);
    await waitFor('alice to flush everything', () => alice.engine.outboxCount === 0, 30_000);
    const flushMs = performance.now() - started;
    console.log(
      `flush of 1,000 with 2 cuts: ${flushMs.toFixed(0)} ms, ${appends} batches appended`,
    );

    expect(cuts).toEqual([3, 7]);
    const stored = await server.store.pageAfter('lobby', 0, 500);
    stored.push(...(await server.store.pageAfter('lobby', 500, 500)));
    expect(await server.store.count('lobby')).toBe(1_000);
    expect(bodies(stored)).toEqual(typed);

    await waitFor('alice to see every message sent', () =>
      alice.engine.room('lobby').messages.every((m) => m.status === 'sent'),
    );
    await waitFor('bob to see all 1,000', () => newestSeq(observer.engine, 'lobby') === 1_000);
    for (const device of [alice, observer]) {
      const view = await wholeRoom(device.engine, 'lobby');
      expect(duplicateIds(view)).toEqual([]);
      expect(bodies(view)).toEqual(typed);
    }
  });
});
