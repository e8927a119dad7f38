import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { emitRaw, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/** What the server's middleware answered a handshake: its `connect_error` data, or "connected". */
function handshake(url: string, auth: object): Promise<unknown> {
  const socket = io(url, { transports: ['websocket'], auth, reconnection: false });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.once('connect_error', (error: Error & { data?: unknown }) => {
      socket.disconnect();
      resolve(error.data);
    });
  });
}

describe('the protocol version in the handshake', () => {
  const cleanups = cleanupsAfterEach();

  async function server() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => started.stop());
    return started;
  }

  it('refuses a client older than the oldest it serves with upgrade_required', async () => {
    const { url } = await server();
    const { token } = await signUp(url, 'alice');
    expect(await handshake(url, { token, protocol: 0 })).toEqual({
      code: 'upgrade_required',
      message: expect.any(String),
    });
  });

  it('tells a signed-out old client to upgrade, not to sign in', async () => {
    const { url } = await server();
    expect(await handshake(url, { protocol: 0 })).toMatchObject({ code: 'upgrade_required' });
  });

  it('tells a client that sends no version (the builds before versions) to upgrade', async () => {
    const { url } = await server();
    const { token } = await signUp(url, 'alice');
    expect(await handshake(url, { token })).toMatchObject({ code: 'upgrade_required' });
  });

  it('refuses the protocol just below the oldest it serves (2: no edits and deletes), and serves that oldest', async () => {
    const { url } = await server();
    const { token } = await signUp(url, 'alice');
    expect(await handshake(url, { token, protocol: MIN_PROTOCOL_VERSION - 1 })).toMatchObject({
      code: 'upgrade_required',
    });
    expect(await handshake(url, { token, protocol: MIN_PROTOCOL_VERSION })).toBe('connected');
  });

  it('serves a protocol 3 client, from before read cursors, room names and leave: what it sends works as before, and what it reads is a superset', async () => {
    // Version 4's additions are additive, so the oldest served stays 3.
    expect([PROTOCOL_VERSION, MIN_PROTOCOL_VERSION]).toEqual([4, 3]);
    const { url } = await server();
    const { token } = await signUp(url, 'alice');
    const old = await rawClient(url, { token, protocol: 3 });
    cleanups.push(() => void old.close());
    expect(await emitRaw(old, 'join', { room: 'lobby' })).toMatchObject({
      ok: true,
      room: 'lobby',
      latestSeq: 0,
    });
    const id = newMessageId();
    expect(
      await emitRaw(old, 'send', { room: 'lobby', messages: [{ id, body: 'hi' }] }),
    ).toMatchObject({ ok: true, results: [{ id, status: 'accepted', seq: 1 }] });
    expect(await emitRaw(old, 'history', { room: 'lobby', after: 0, limit: 10 })).toMatchObject({
      ok: true,
      messages: [{ id, body: 'hi' }],
    });
    // Exactly the empty object a version 3 client sends.
    expect(await emitRaw(old, 'createRoom', {})).toMatchObject({
      ok: true,
      room: expect.any(String),
      invite: expect.any(String),
    });
  });

  it("sends this build's protocol version from the app", async () => {
    const { url, server: ferry } = await server();
    const claimed: unknown[] = [];
    ferry.io.on('connection', (socket) => claimed.push(socket.handshake.auth.protocol));
    const tab = await openDevice(url, deviceName('tab'), { name: 'alice' });
    cleanups.push(() => tab.engine.destroy());
    await waitFor('the tab to connect', () => tab.engine.connection.status === 'connected');
    expect(claimed).toEqual([PROTOCOL_VERSION]);
  });

  it('stops an old tab reconnecting, says an upgrade is required, and keeps its outbox', async () => {
    const { url, server: ferry } = await server();
    let handshakes = 0;
    ferry.io.engine.on('connection', () => {
      handshakes += 1;
    });
    const old = await openDevice(url, deviceName('old-tab'), { protocolVersion: 0 });
    cleanups.push(() => old.engine.destroy());
    await old.engine.setIdentity('alice');
    await old.engine.openRoom('lobby');
    await old.engine.send('lobby', 'typed before the reload');

    await waitFor(
      'the tab to hear that it is too old',
      () => old.engine.connection.status === 'upgrade_required',
    );
    const seen = handshakes;
    old.engine.reconnectNow();
    old.connectivity.set(false);
    old.connectivity.set(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(handshakes).toBe(seen);
    expect(old.engine.connection.status).toBe('upgrade_required');
    expect(old.engine.outboxCount).toBe(1);
    expect(old.engine.room('lobby').messages.map((m) => [m.body, m.status])).toEqual([
      ['typed before the reload', 'pending'],
    ]);
  });

  it('retries, with backoff, a handshake refused with a code this build does not know', async () => {
    const { url, server: ferry } = await server();
    let refusals = 2;
    // A newer server's refusal, after its session check passed.
    ferry.io.use((_socket, next) => {
      if (refusals-- <= 0) return next();
      const data = { code: 'maintenance', message: 'back in a moment' };
      next(Object.assign(new Error('maintenance'), { data }));
    });
    const tab = await openDevice(url, deviceName('tab'), { room: 'lobby' });
    cleanups.push(() => tab.engine.destroy());
    const seen = new Set<string>();
    tab.engine.subscribe(() => seen.add(tab.engine.connection.status));
    await tab.engine.setIdentity('alice');
    await waitFor('the tab to connect', () => tab.engine.connection.status === 'connected');
    expect(seen.has('failed')).toBe(false);
    expect(seen.has('reconnecting')).toBe(true);
  });
});
