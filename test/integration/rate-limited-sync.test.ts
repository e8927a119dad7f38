// The engine against a server whose join, history and createRoom budgets are tight: it waits
// out each `rate_limited` answer and asks again, never in a hot loop, never a broken room.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { FerryServerOptions } from '../../src/server/ferry-server.ts';
import { MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, newestSeq, openDevice, waitFor, wholeRoom } from '../support/engine.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('an engine under tight request budgets', () => {
  const cleanups = cleanupsAfterEach();

  async function serverWith(serverOptions: Partial<FerryServerOptions>): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db`, serverOptions });
    cleanups.push(() => server.stop());
    return server;
  }

  /** Counts the requests of one kind that every socket makes. */
  function countRequests(server: TestServer, event: string): { asked: number } {
    const counts = { asked: 0 };
    server.server.io.on('connection', (socket) => {
      socket.onAny((name: string) => {
        if (name === event) counts.asked += 1;
      });
    });
    return counts;
  }

  async function seed(server: TestServer, room: string, count: number): Promise<void> {
    const author = { id: 'seed', name: 'seed' };
    for (let done = 0; done < count; done += 100) {
      const items = Array.from({ length: Math.min(100, count - done) }, (_, i) => ({
        id: newMessageId(),
        body: `missed ${done + i}`,
      }));
      await server.store.appendBatch(room, author, items, Date.now());
    }
  }

  it('catches a room up in full under a budget of two history pages, waiting out each refusal', async () => {
    // Two pages at once, then ten a second: 20 pages take about two seconds.
    const server = await serverWith({
      floodLimits: { historyRate: { capacity: 2, refillPerMinute: 600 } },
    });
    const history = countRequests(server, 'history');
    const bob = await openDevice(server.url, deviceName('bob'), {
      name: 'bob',
      historyPageSize: 100,
    });
    cleanups.push(() => bob.engine.destroy());
    await seed(server, 'lobby', 1);
    await bob.engine.openRoom('lobby');
    await waitFor('bob to know the room', () => bob.engine.room('lobby').messages.length === 1);

    bob.connectivity.set(false);
    await waitFor('bob offline', () => bob.engine.connection.status === 'offline');
    await seed(server, 'lobby', 2_000);
    const askedBefore = history.asked;
    const started = performance.now();
    bob.connectivity.set(true);
    await waitFor(
      'bob to catch up all 2,000 messages',
      () => newestSeq(bob.engine, 'lobby') === 2_001,
      20_000,
    );
    expect((await wholeRoom(bob.engine, 'lobby')).map((m) => m.body)).toEqual([
      'missed 0',
      ...Array.from({ length: 2_000 }, (_, i) => `missed ${i}`),
    ]);
    // 21 pages (the last one short), and at most one refusal per MIN_RETRY_AFTER_MS (one
    // page is asked for at a time): a pause after each, not a storm.
    const refused = history.asked - askedBefore - 21;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual((performance.now() - started) / MIN_RETRY_AFTER_MS + 1);
  });

  it('joins every open room under a budget of two joins, and shows none as refused', async () => {
    const server = await serverWith({
      floodLimits: { joinRate: { capacity: 2, refillPerMinute: 600 } },
    });
    const rooms = ['one', 'two', 'three', 'four', 'five'];
    const joins = countRequests(server, 'join');
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    let everDenied: string | null = null;
    cleanups.push(
      alice.engine.subscribe(() => {
        for (const room of rooms) everDenied ??= alice.engine.room(room).denied;
      }),
    );
    for (const room of rooms) await seed(server, room, 100);
    for (const room of rooms) await alice.engine.openRoom(room);
    // A join catches the room up: each room holds its 100 messages once it is joined.
    await waitFor(
      'every room joined and caught up',
      () => rooms.every((room) => alice.engine.room(room).messages.length === 100),
      10_000,
    );
    // Some joins were refused and asked again; no room was shown refused meanwhile.
    expect(joins.asked).toBeGreaterThan(rooms.length);
    expect(everDenied).toBeNull();
  });

  it("fails a createRoom refused for the hour at once, with the server's reason", async () => {
    const server = await serverWith({ floodLimits: { roomsCreatedPerHour: 1 } });
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice connected', () => alice.engine.connection.status === 'connected');
    await alice.engine.createPrivateRoom();
    const started = performance.now();
    await expect(alice.engine.createPrivateRoom()).rejects.toThrow(/too many new rooms/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
