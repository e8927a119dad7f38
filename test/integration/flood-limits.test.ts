// Floods one signed-in account can aim at the socket server, each met on a real server.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import {
  type FerryServerOptions,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
} from '../../src/server/ferry-server.ts';
import { MAX_BODY_CHARS, MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice } from '../support/engine.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { RawWebSocket } from '../support/raw-websocket.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

/** A refusal as tests read it. */
interface Refusal {
  ok: false;
  error: { code: string; message: string; retryAfterMs?: number };
}

const MB = 1024 * 1024;

describe('floods from one account', () => {
  const cleanups = cleanupsAfterEach();

  async function serverWith(serverOptions: Partial<FerryServerOptions> = {}): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db`, serverOptions });
    cleanups.push(() => server.stop());
    return server;
  }

  async function socketOf(server: TestServer, token: string): Promise<RawSocket> {
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    return socket;
  }

  /** A room whose every 500-message page is about 2 MB of JSON. */
  async function fillRoom(server: TestServer, room: string): Promise<void> {
    const author = { id: 'seed', name: 'seed' };
    const body = 'x'.repeat(MAX_BODY_CHARS);
    for (let batch = 0; batch < 5; batch++) {
      const items = Array.from({ length: 100 }, () => ({ id: newMessageId(), body }));
      await server.store.appendBatch(room, author, items, Date.now());
    }
  }

  function expectRateLimited(answer: unknown): void {
    const refusal = answer as Refusal;
    expect(refusal.ok).toBe(false);
    expect(refusal.error.code).toBe('rate_limited');
    expect(refusal.error.retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
  }

  it('drops a socket that stops reading while it pipelines 2 MB history pages, before the server buffers 100 MB for it', async () => {
    const server = await serverWith();
    await fillRoom(server, 'big');
    const { token } = await signUp(server.url, 'mallory');
    const reader = await RawWebSocket.open(server.url, token);
    cleanups.push(() => reader.close());
    const rssBefore = process.memoryUsage().rss;
    reader.stopReading();
    // 120 pages are 250 MB of answers; a server without a bound buffers them all. Paced,
    // so that the queue of requests alone never looks like a flood.
    let sent = 0;
    const paced = setInterval(() => {
      for (let i = 0; i < 10 && sent < 120 && reader.open; i++, sent++) {
        void reader.request('history', { room: 'big', after: 0, limit: 500 });
      }
    }, 100);
    cleanups.push(() => clearInterval(paced));
    let peakRss = rssBefore;
    await waitFor(
      'the server to drop the socket that reads nothing',
      () => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        return server.server.io.of('/').sockets.size === 0;
      },
      15_000,
      20,
    );
    expect(peakRss - rssBefore).toBeLessThan(100 * MB);
  });

  it('drops a socket that reads nothing for the stall time, even while it sends pongs', async () => {
    const server = await serverWith({
      // A bound this high is not reached: only the stall can end this socket.
      floodLimits: { maxOutboundBytes: 256 * MB, outboundStallMs: 1_500 },
      socketOptions: { pingInterval: 300, pingTimeout: 600 },
    });
    await fillRoom(server, 'big');
    const { token } = await signUp(server.url, 'mallory');
    const reader = await RawWebSocket.open(server.url, token);
    cleanups.push(() => reader.close());
    reader.stopReading();
    // More than the kernel's buffers hold, so the rest waits on the server's side.
    for (let i = 0; i < 12; i++)
      void reader.request('history', { room: 'big', after: 0, limit: 500 });
    const pongs = setInterval(() => reader.pong(), 100);
    cleanups.push(() => clearInterval(pongs));
    const outcome = await Promise.race([
      reader.closed.then(() => 'dropped'),
      new Promise((resolve) => setTimeout(resolve, 8_000)).then(() => 'kept alive by its pongs'),
    ]);
    expect(outcome).toBe('dropped');
  });

  it('answers history past the budget with rate_limited and a wait', async () => {
    const server = await serverWith({
      floodLimits: { historyRate: { capacity: 3, refillPerMinute: 6 } },
    });
    const socket = await socketOf(server, (await signUp(server.url, 'alice')).token);
    const page = { room: 'lobby', after: 0, limit: 10 };
    for (let i = 0; i < 3; i++)
      expect(await emitRaw(socket, 'history', page)).toMatchObject({ ok: true });
    expectRateLimited(await emitRaw(socket, 'history', page));
  });

  it('answers joins past the budget with rate_limited and a wait', async () => {
    const server = await serverWith({
      floodLimits: { joinRate: { capacity: 5, refillPerMinute: 6 } },
    });
    const socket = await socketOf(server, (await signUp(server.url, 'alice')).token);
    for (let i = 0; i < 5; i++) {
      expect(await emitRaw(socket, 'join', { room: `room-${i}` })).toMatchObject({ ok: true });
    }
    expectRateLimited(await emitRaw(socket, 'join', { room: 'room-5' }));
  });

  it('caps the rooms one socket has joined, while joining one of them again still works', async () => {
    const server = await serverWith({ floodLimits: { maxRoomsPerSocket: 4 } });
    const socket = await socketOf(server, (await signUp(server.url, 'alice')).token);
    for (let i = 0; i < 4; i++) {
      expect(await emitRaw(socket, 'join', { room: `room-${i}` })).toMatchObject({ ok: true });
    }
    expectRateLimited(await emitRaw(socket, 'join', { room: 'room-4' }));
    expect(await emitRaw(socket, 'join', { room: 'room-0' })).toMatchObject({ ok: true });
  });

  it('caps the private rooms one user creates per hour, across all their sockets, and no one else', async () => {
    const server = await serverWith({ floodLimits: { roomsCreatedPerHour: 3 } });
    const { token } = await signUp(server.url, 'alice');
    const sockets = [await socketOf(server, token), await socketOf(server, token)];
    for (let i = 0; i < 3; i++) {
      const socket = sockets[i % 2] as RawSocket;
      expect(await emitRaw(socket, 'createRoom', {})).toMatchObject({ ok: true });
    }
    expectRateLimited(await emitRaw(sockets[1] as RawSocket, 'createRoom', {}));
    const bob = await socketOf(server, (await signUp(server.url, 'bob')).token);
    expect(await emitRaw(bob, 'createRoom', {})).toMatchObject({ ok: true });
  });

  it('refuses a socket past the per-user cap with a rate_limited connect error, and lets one in when another leaves', async () => {
    const server = await serverWith({ floodLimits: { maxSocketsPerUser: 3 } });
    const { token } = await signUp(server.url, 'alice');
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await socketOf(server, token));
    const refused = await rawClient(server.url, { token }).then(
      (socket) => {
        socket.close();
        return null;
      },
      (error: Error & { data?: Refusal['error'] }) => error.data,
    );
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    // Someone else is not affected.
    await socketOf(server, (await signUp(server.url, 'bob')).token);

    sockets[0]?.close();
    await waitFor(
      'the server to see the socket go',
      () => server.server.io.of('/').sockets.size === 3,
    );
    await socketOf(server, token);
  });

  it('lets one account keep a stale and a fresh socket for each of a dozen tabs, and asks the next to wait only as long as a stale socket can last', async () => {
    // A laptop with twelve tabs that switches networks: each tab's old socket stays on the
    // server until the heartbeat gives up on it, beside the tab's new one.
    const server = await serverWith();
    const { token } = await signUp(server.url, 'alice');
    for (let i = 0; i < 24; i++) await socketOf(server, token);
    const refused = await rawClient(server.url, { token }).then(
      (socket) => {
        socket.close();
        return null;
      },
      (error: Error & { data?: Refusal['error'] }) => error.data,
    );
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.retryAfterMs).toBe(PING_INTERVAL_MS + PING_TIMEOUT_MS);
  });

  it('has a tab refused by the socket cap wait out the answer and try again, instead of showing the session as refused', async () => {
    const server = await serverWith({ floodLimits: { maxSocketsPerUser: 1 } });
    const profile = deviceName('capped');
    const first = await openDevice(server.url, profile, { name: 'alice' });
    cleanups.push(() => first.engine.destroy());
    await waitFor('the first tab to connect', () => first.engine.connection.status === 'connected');

    const second = await openDevice(server.url, profile);
    cleanups.push(() => second.engine.destroy());
    await waitFor(
      'the second tab to hear the refusal',
      () => second.engine.connection.status !== 'connecting',
    );
    const state = second.engine.connection;
    expect(state.status).toBe('reconnecting');
    if (state.status !== 'reconnecting') return;
    // The server asked for as long as a stale socket can hold a slot (35 s); the tab keeps
    // to it rather than hammering.
    expect(state.nextRetryAt - Date.now()).toBeGreaterThan(30_000);
  });
});
