import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import { connectTo, describeWithPostgres, freshDatabase } from '../support/postgres.ts';
import { tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';

/** What the test reads back from PostgreSQL: a room's messages in seq order. */
async function storedInPostgres(url: string, room: string) {
  const client = await connectTo(url);
  try {
    const { rows } = await client.query<{ id: string; seq: string; ts: string; body: string }>(
      'SELECT id, seq, ts, body FROM messages WHERE room = $1 ORDER BY seq',
      [room],
    );
    return rows.map((row) => ({ ...row, seq: Number(row.seq), ts: Number(row.ts) }));
  } finally {
    await client.end();
  }
}

/**
 * `npm start` with FERRY_DATABASE_URL: the real server process over PostgreSQL instead of
 * its SQLite file (no Redis yet: live messages reach the sockets of their own process, and
 * every process catches up from the database).
 */
describeWithPostgres('the server over PostgreSQL', () => {
  const cleanups = cleanupsAfterEach();
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.dispose();
  });

  async function node(databaseUrl: string): Promise<ServerProcess> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    // The SQLite path is given too: FERRY_DATABASE_URL must win over it.
    const server = new ServerProcess({
      port: 0,
      dbPath: join(dir.path, 'unused.db'),
      env: { FERRY_DATABASE_URL: databaseUrl },
    });
    servers.push(server);
    await server.start();
    return server;
  }

  async function database() {
    const fresh = await freshDatabase();
    cleanups.push(fresh.drop);
    return fresh.url;
  }

  it('stores what is sent in PostgreSQL and serves it again after a restart', async () => {
    const url = await database();
    const server = await node(url);
    const alice = await openDevice(server.url(), deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => alice.engine.destroy());
    const typed = ['one', 'two', 'three'];
    for (const body of typed) await alice.engine.send('lobby', body);
    await waitFor('the outbox to drain', () => alice.engine.outboxCount === 0);
    expect((await storedInPostgres(url, 'lobby')).map((m) => [m.seq, m.body])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);

    await server.stop();
    await server.start();
    const bob = await openDevice(server.url(), deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(() => bob.engine.destroy());
    await waitFor('bob to catch up', () => bob.engine.room('lobby').messages.length === 3);
    expect(bodies(bob.engine.room('lobby').messages)).toEqual(typed);
  });

  it('keeps one room gap-free and each sender in order when two processes write to it at once', async () => {
    const url = await database();
    const [first, second] = [await node(url), await node(url)];
    const senders = await Promise.all(
      [first, second].map(async (server, i) => {
        const device = await openDevice(server.url(), deviceName(`writer-${i}`), {
          name: `writer ${i}`,
          room: 'busy',
        });
        cleanups.push(() => device.engine.destroy());
        return device.engine;
      }),
    );
    const typed = senders.map((_, i) => Array.from({ length: 60 }, (_, n) => `w${i} #${n}`));
    await Promise.all(
      senders.map(async (engine, i) => {
        for (const body of typed[i] ?? []) await engine.send('busy', body);
      }),
    );
    await waitFor('both outboxes to drain', () => senders.every((e) => e.outboxCount === 0));

    const stored = await storedInPostgres(url, 'busy');
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.every((m, i) => i === 0 || m.ts > (stored[i - 1]?.ts ?? 0))).toBe(true);
    expect(duplicateIds(stored)).toEqual([]);
    for (const own of typed) {
      expect(stored.map((m) => m.body).filter((body) => own.includes(body))).toEqual(own);
    }
  });
});
