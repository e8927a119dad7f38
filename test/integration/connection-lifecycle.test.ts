import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../src/client/connection-state.ts';
import type { Engine } from '../../src/client/engine.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { freePort, startTestServer, type TestServer, tempDir } from '../support/server.ts';

/** Every connection state the engine goes through, with when it was entered. */
function recordStates(engine: Engine): { state: ConnectionState; at: number }[] {
  const seen: { state: ConnectionState; at: number }[] = [];
  let last: ConnectionState | null = null;
  engine.subscribe(() => {
    if (engine.connection !== last) {
      last = engine.connection;
      seen.push({ state: last, at: Date.now() });
    }
  });
  return seen;
}

/** Counts WebSocket handshakes the server receives: each is one connection attempt. */
function countConnections(server: TestServer): { count: number } {
  const counter = { count: 0 };
  server.server.http.on('upgrade', () => {
    counter.count += 1;
  });
  return counter;
}

describe('connection lifecycle against a real server', () => {
  const cleanups = cleanupsAfterEach();

  async function server(port?: number): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({ dbPath: `${dir.path}/ferry.db`, port });
    cleanups.push(() => started.stop());
    return started;
  }

  it('backs off with growing delays, fails after the last attempt, and retry-now connects and flushes', async () => {
    const port = await freePort();
    const device = await openDevice(`http://127.0.0.1:${port}`, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      backoff: { minMs: 40, maxMs: 300, factor: 2, jitter: 0 },
      maxAttempts: 4,
      online: false,
    });
    cleanups.push(() => device.engine.destroy());
    await device.engine.send('lobby', 'queued while the server was down');
    // Attempts start only once the device is online, so the recorder sees every one.
    const states = recordStates(device.engine);
    device.connectivity.set(true);

    await waitFor('failed', () => device.engine.connection.status === 'failed', 10_000);
    const retries = states.flatMap(({ state, at }) =>
      state.status === 'reconnecting'
        ? [{ attempt: state.attempt, delay: state.nextRetryAt - at }]
        : [],
    );
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    // Delays as scheduled (read a few ms after scheduling): exponential, capped at 300.
    [40, 80, 160, 300].forEach((expected, i) => {
      expect(retries[i]?.delay).toBeGreaterThan(expected - 15);
      expect(retries[i]?.delay).toBeLessThanOrEqual(expected);
    });
    expect(device.engine.connection).toEqual({
      status: 'failed',
      reason: 'the server could not be reached after 4 attempts',
    });

    const started = await server(port);
    const attempts = countConnections(started);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(attempts.count).toBe(0); // failed means failed: no silent retrying
    expect(device.engine.connection.status).toBe('failed');

    device.engine.reconnectNow();
    await waitFor('connected', () => device.engine.connection.status === 'connected', 2_000);
    await waitFor('the outbox to flush', () => device.engine.outboxCount === 0);
    expect(bodies(await started.store.pageAfter('lobby', 0, 10))).toEqual([
      'queued while the server was down',
    ]);
  });

  it('goes offline at once with no attempts while offline, and reconnects within 2 s of coming online', async () => {
    const started = await server();
    const device = await openDevice(started.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => device.engine.destroy());
    await waitFor('connected', () => device.engine.connection.status === 'connected');
    const attempts = countConnections(started);

    const wentOffline = performance.now();
    device.connectivity.set(false);
    await waitFor('offline', () => device.engine.connection.status === 'offline', 100);
    const offlineMs = performance.now() - wentOffline;
    await device.engine.send('lobby', 'typed offline');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(attempts.count).toBe(0);
    expect(device.engine.connection.status).toBe('offline');

    const cameOnline = performance.now();
    device.connectivity.set(true);
    await waitFor('connected', () => device.engine.connection.status === 'connected', 2_000);
    const onlineMs = performance.now() - cameOnline;
    console.log(
      `offline detected in ${offlineMs.toFixed(1)} ms; reconnected ${onlineMs.toFixed(0)} ms after online`,
    );
    await waitFor('the outbox to flush', () => device.engine.outboxCount === 0);
    expect(attempts.count).toBe(1);
  });

  it('finds a half-open link within the heartbeat interval + timeout, reconnects, and delivers what was sent meanwhile once', async () => {
    const started = await server();
    const proxy = await FaultProxy.start({ port: started.port });
    cleanups.push(() => proxy.stop());
    const heartbeat = { intervalMs: 500, timeoutMs: 500 };
    const device = await openDevice(proxy.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      heartbeat,
    });
    cleanups.push(() => device.engine.destroy());
    await waitFor('connected', () => device.engine.connection.status === 'connected');
    await waitFor(
      'an RTT',
      () =>
        device.engine.connection.status === 'connected' && device.engine.connection.rttMs !== null,
    );
    const states = recordStates(device.engine);

    const blackholedAt = Date.now();
    proxy.blackholeExisting();
    const typed = ['into the void 1', 'into the void 2', 'into the void 3'];
    for (const body of typed) await device.engine.send('lobby', body);

    await waitFor(
      'the link to be replaced',
      () => states.some((s) => s.state.status !== 'connected'),
      5_000,
    );
    await waitFor('connected again', () => device.engine.connection.status === 'connected', 5_000);
    const detectedMs = (states.find((s) => s.state.status !== 'connected')?.at ?? 0) - blackholedAt;
    const reconnectedMs = Date.now() - blackholedAt;
    console.log(
      `half-open link detected after ${detectedMs} ms, reconnected after ${reconnectedMs} ms`,
    );
    // Slack for a loaded 2-core CI machine running browser suites beside this one.
    expect(detectedMs).toBeLessThanOrEqual(heartbeat.intervalMs + heartbeat.timeoutMs + 500);

    await waitFor('the outbox to flush', () => device.engine.outboxCount === 0);
    expect(bodies(await started.store.pageAfter('lobby', 0, 10))).toEqual(typed);
  });

  it('fails with the server reason when the handshake is refused, without a retry storm', async () => {
    const started = await server();
    started.server.io.use((_socket, next) => {
      const refusal = Object.assign(new Error('refused'), {
        data: { code: 'invalid_payload', message: 'session revoked' },
      });
      next(refusal);
    });
    const attempts = countConnections(started);
    const device = await openDevice(started.url, deviceName('alice'), { name: 'alice' });
    cleanups.push(() => device.engine.destroy());

    await waitFor('failed', () => device.engine.connection.status === 'failed');
    expect(device.engine.connection).toEqual({ status: 'failed', reason: 'session revoked' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(attempts.count).toBe(1);
  });

  it('resumes by itself from failed when the platform comes back online', async () => {
    const port = await freePort();
    const device = await openDevice(`http://127.0.0.1:${port}`, deviceName('alice'), {
      name: 'alice',
      backoff: { minMs: 20, maxMs: 40, factor: 2, jitter: 0 },
      maxAttempts: 2,
    });
    cleanups.push(() => device.engine.destroy());
    await waitFor('failed', () => device.engine.connection.status === 'failed');
    await server(port);
    device.connectivity.set(false);
    device.connectivity.set(true);
    await waitFor('connected', () => device.engine.connection.status === 'connected', 2_000);
  });
});
