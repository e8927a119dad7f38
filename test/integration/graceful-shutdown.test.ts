// SIGTERM of `npm start`'s server under load: what it had received is finished and acked,
// the process exits 0 within its grace, and the clients finish their outboxes on the next
// boot, every message stored once, in each sender's order.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SentMessage } from '../../src/client/types.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, type TestDevice, waitFor } from '../support/engine.ts';
import { rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { RawWebSocket } from '../support/raw-websocket.ts';
import { startTestServer, tempDir, withAppend } from '../support/server.ts';
import { type ServerExit, ServerProcess } from '../support/server-process.ts';

const CLIENTS = 20;
const ROOMS = 4;
const SEND_EVERY_MS = 40;
const GRACE_MS = 5_000;

/** One device typing into its room until told to stop, a message every SEND_EVERY_MS. */
function keepTyping(device: TestDevice, room: string, label: string) {
  const typed: string[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const body = `${label} #${typed.length}`;
      typed.push(body);
      await device.engine.send(room, body);
      await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
    }
  })();
  return {
    typed,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('graceful shutdown', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose appends wait `appendMs` before they commit. */
  async function slowServer(appendMs: number) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({
      dbPath: join(dir.path, 'ferry.db'),
      wrapStore: (store) =>
        withAppend(store, async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, appendMs));
          return store.appendBatch(...args);
        }),
    });
    cleanups.push(() => server.stop());
    return server;
  }

  it('acks a batch it was committing when the shutdown began, then drops the socket', async () => {
    const server = await slowServer(300);
    const { token } = await signUp(server.url, 'ada');
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));

    const ack = sendBatch(socket, 'lobby', [{ id: crypto.randomUUID(), body: 'in flight' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shutdown = server.server.shutdown(GRACE_MS);

    expect(await ack).toMatchObject({ ok: true, results: [{ status: 'accepted', seq: 1 }] });
    expect(await shutdown).toEqual({ drained: true });
    expect(await disconnected).toBeTruthy();
    expect(await server.store.count('lobby')).toBe(1);
  });

  it('refuses a batch that comes after the shutdown began with a wait, storing nothing of it', async () => {
    const server = await slowServer(300);
    const { token } = await signUp(server.url, 'ada');
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());

    const first = sendBatch(socket, 'lobby', [{ id: crypto.randomUUID(), body: 'taken' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shutdown = server.server.shutdown(GRACE_MS);
    const late = await sendBatch(socket, 'lobby', [{ id: crypto.randomUUID(), body: 'too late' }]);

    expect(late).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(late.error?.retryAfterMs).toBeGreaterThan(0);
    expect(await first).toMatchObject({ ok: true });
    await shutdown;
    expect(await server.store.count('lobby')).toBe(1);
  });

  it('stops within a second when a client has stopped reading (a phone gone out of coverage)', async () => {
    const server = await slowServer(0);
    const { token } = await signUp(server.url, 'ada');
    const gone = await RawWebSocket.open(server.url, token);
    cleanups.push(() => gone.close());
    const alive = await rawClient(server.url, { token });
    cleanups.push(() => void alive.close());
    gone.stopReading();
    const started = Date.now();
    expect(await server.server.shutdown(GRACE_MS)).toEqual({ drained: true });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(alive.connected).toBe(false);
  });

  it('gives up waiting when the grace runs out, and says it did not drain', async () => {
    const server = await slowServer(2_000);
    const { token } = await signUp(server.url, 'ada');
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    void sendBatch(socket, 'lobby', [{ id: crypto.randomUUID(), body: 'stuck' }]).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect(await server.server.shutdown(300)).toEqual({ drained: false });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('finishes and acks what it received on SIGTERM under load, exits 0 within its grace, and loses nothing across the restart', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = join(dir.path, 'ferry.db');
    const server = new ServerProcess({
      port: 'held',
      dbPath,
      env: { FERRY_SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    cleanups.push(() => server.dispose());
    await server.start();

    const devices = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        openDevice(server.url(), deviceName(`typist-${i}`), {
          name: `typist-${i}`,
          room: `room-${i % ROOMS}`,
          // A restart under load takes seconds: keep trying for as long as a phone would.
          maxAttempts: 1_000,
        }),
      ),
    );
    cleanups.push(...devices.map((device) => () => device.engine.destroy()));
    await waitFor('every client connected', () =>
      devices.every((device) => device.engine.connection.status === 'connected'),
    );
    const typists = devices.map((device, i) => keepTyping(device, `room-${i % ROOMS}`, `t${i}`));

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    let exit: ServerExit | null = null;
    const off = server.onExit((e) => {
      exit = e;
    });
    const termAt = Date.now();
    await server.stop();
    const stopMs = Date.now() - termAt;
    off();
    console.log(`SIGTERM under load: exited in ${stopMs} ms with ${JSON.stringify(exit)}`);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(GRACE_MS);
    expect(server.log.some((line) => line.includes('SIGTERM'))).toBe(true);

    // The clients keep typing through the restart.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(typists.map((typist) => typist.stop()));
    await waitFor(
      'every outbox sent',
      () => devices.every((device) => device.engine.outboxCount === 0),
      30_000,
    );
    await server.stop();

    const db = new Database(dbPath, { readonly: true });
    cleanups.push(() => {
      db.close();
    });
    const stored = db
      .prepare<[], { id: string; room: string; body: string; seq: number }>(
        'SELECT id, room, body, seq FROM messages ORDER BY room, seq',
      )
      .all();
    const storedById = new Map(stored.map((row) => [row.id, row]));
    // Stored once each (ids are unique by the schema; bodies are unique by the workload).
    expect(new Set(stored.map((row) => row.body)).size).toBe(stored.length);
    for (const [i, typist] of typists.entries()) {
      const room = `room-${i % ROOMS}`;
      // Everything typed is stored, in the order typed.
      const mine = stored.filter((row) => row.room === room && row.body.startsWith(`t${i} #`));
      expect(mine.map((row) => row.body)).toEqual(typist.typed);
      // Every message the client holds as acked is stored with the seq its ack gave it.
      for (const message of devices[i]?.engine.room(room).messages ?? []) {
        if (message.status !== 'sent') continue;
        expect(storedById.get(message.id)?.seq).toBe((message as SentMessage).seq);
      }
    }
  });
});
