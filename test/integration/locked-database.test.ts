import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { postSession, rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';

/** Far below the 5 s the server used to wait on a lock with its whole event loop. */
const FAST_MS = 250;

/**
 * Another process's view of Ferry's SQLite file: while `lock` holds, that process has the
 * write lock (as a `sqlite3` shell in a transaction, or a backup tool, would).
 */
function lockHolder(path: string) {
  const db = new Database(path);
  return {
    lock: () => db.exec('BEGIN IMMEDIATE'),
    release: () => {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
    bodies: (room: string) =>
      db
        .prepare('SELECT body FROM messages WHERE room = ? ORDER BY seq')
        .pluck()
        .all(room) as string[],
    close: () => {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    },
  };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

const message = (body: string) => ({ id: randomUUID(), body });

describe('a SQLite file that another process holds locked', () => {
  const cleanups = cleanupsAfterEach();

  async function lockedServer() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = `${dir.path}/ferry.db`;
    const server = new ServerProcess({ dbPath, port: 0 });
    await server.start();
    cleanups.push(() => server.dispose());
    const holder = lockHolder(dbPath);
    cleanups.push(() => holder.close());
    return { server, url: server.url(), holder };
  }

  it('keeps /healthz fast while sign-ups and sends fail on the lock', async () => {
    const { url, holder } = await lockedServer();
    const session = await signUp(url, 'alice');
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.disconnect());
    await fetch(`${url}/healthz`); // the first request opens the connection: not timed
    holder.lock();

    const signUps: number[] = [];
    const sendCodes: (string | null)[] = [];
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        signUps.push((await postSession(url, { name: `bob${i}` })).status);
        // The old server dropped the socket on the first one: that reads as `null` here.
        const ack = await sendBatch(socket, 'lobby', [message(`try ${i}`)], { head: true }).catch(
          () => null,
        );
        sendCodes.push(ack && !ack.ok ? (ack.error?.code ?? null) : null);
      }
    })();
    const latencies: number[] = [];
    let writing = true;
    void writes.finally(() => {
      writing = false;
    });
    while (writing) {
      latencies.push((await timed(() => fetch(`${url}/healthz`))).ms);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await writes;
    const worst = Math.max(...latencies);
    const sorted = latencies.toSorted((a, b) => a - b);
    console.log(
      `/healthz under a lock: ${latencies.length} probes, median ${sorted[sorted.length >> 1]?.toFixed(1)} ms, worst ${worst.toFixed(1)} ms`,
    );
    expect(worst).toBeLessThan(FAST_MS);
    // The lock was really in the way of every write.
    // Every sign-up is told to come back; none spends the address's sign-up budget (20).
    expect(new Set(signUps)).toEqual(new Set([503]));
    expect(new Set(sendCodes)).toEqual(new Set(['internal']));
  });

  it("answers a current client's send internal with a retry hint, at once, and keeps the socket", async () => {
    const { url, holder } = await lockedServer();
    const session = await signUp(url, 'alice');
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.disconnect());
    holder.lock();

    const { value: ack, ms } = await timed(() =>
      sendBatch(socket, 'lobby', [message('hello')], { head: true }),
    );
    console.log(`a send under a lock answered in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(FAST_MS);
    expect(ack.ok).toBe(false);
    expect(ack.error?.code).toBe('internal');
    expect(ack.error?.retryAfterMs).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socket.connected).toBe(true);
  });

  it('stores no batch ahead of one the store failed, on the same socket', async () => {
    const { url, holder } = await lockedServer();
    const session = await signUp(url, 'alice');
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.disconnect());
    const first = message('first');
    const second = message('second');
    holder.lock();
    const failed = await sendBatch(socket, 'lobby', [first], { head: true });
    expect(failed.error?.code).toBe('internal');
    holder.release();

    // In flight behind the failed batch: it must wait for `first`, lock or no lock.
    const behind = await sendBatch(socket, 'lobby', [second]);
    expect(behind.ok).toBe(false);
    expect(behind.error?.retryAfterMs).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, failed.error?.retryAfterMs));
    expect((await sendBatch(socket, 'lobby', [first, second])).ok).toBe(true);
    expect(holder.bodies('lobby')).toEqual(['first', 'second']);
  });

  it('answers a sign-up 503 with Retry-After at once', async () => {
    const { url, holder } = await lockedServer();
    holder.lock();
    const { value: response, ms } = await timed(() =>
      fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'alice' }),
      }),
    );
    console.log(`a sign-up under a lock answered ${response.status} in ${ms.toFixed(1)} ms`);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('keeps the engine connected while the lock holds, then delivers everything in order', async () => {
    const { url, holder } = await lockedServer();
    const alice = await openDevice(url, deviceName('alice'), { name: 'alice', room: 'lobby' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice to connect', () => alice.engine.connection.status === 'connected');
    let linksLost = 0;
    alice.engine.subscribe(() => {
      if (alice.engine.connection.status !== 'connected') linksLost += 1;
    });

    holder.lock();
    for (const body of ['one', 'two', 'three']) {
      await alice.engine.send('lobby', body);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(linksLost).toBe(0);
    expect(alice.engine.outboxCount).toBe(3);
    expect(alice.engine.diagnostics.batchesSent).toBeLessThan(10);

    holder.release();
    await waitFor('the outbox to empty', () => alice.engine.outboxCount === 0, 10_000);
    expect(holder.bodies('lobby')).toEqual(['one', 'two', 'three']);
    expect(linksLost).toBe(0);
  });
});
