import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/** 64 kbit/s: a phone's uplink on a bad day. */
const UPLINK_BYTES_PER_SECOND = 8_000;

describe('a slow uplink', () => {
  const cleanups = cleanupsAfterEach();

  it('flushes 100 KB over 64 kbit/s on one connection, with the default heartbeat, in order', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    let connections = 0;
    server.server.io.on('connection', () => {
      connections += 1;
    });
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.stop());

    const alice = await openDevice(proxy.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
    });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice to connect', () => alice.engine.connection.status === 'connected');
    proxy.setBandwidth({ upBytesPerSecond: UPLINK_BYTES_PER_SECOND });

    const typed = Array.from({ length: 100 }, (_, i) => `${i} ${'x'.repeat(1_000)}`);
    for (const body of typed) await alice.engine.send('lobby', body);
    const started = performance.now();
    await waitFor('the flush to finish', () => alice.engine.outboxCount === 0, 40_000);
    console.log(`100 KB over 64 kbit/s: ${((performance.now() - started) / 1000).toFixed(1)} s`);

    expect(connections).toBe(1);
    expect(alice.engine.connection.status).toBe('connected');
    expect(bodies(await server.store.pageAfter('lobby', 0, 200))).toEqual(typed);
  }, 60_000);
});
