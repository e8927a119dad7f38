import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/**
 * A TCP proxy whose first `cuts` connections are reset right after the server's answer to
 * the WebSocket upgrade, before engine.io's open packet: the moment a flaky link most
 * often dies, with the socket "open" at the HTTP level and nothing else said yet.
 */
async function proxyCuttingAfterUpgrade(serverPort: number, cuts: number) {
  let left = cuts;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(serverPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cut = left > 0;
    left -= 1;
    let headersDone = false;
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (!cut || headersDone) {
        client.write(chunk);
        return;
      }
      const end = chunk.indexOf('\r\n\r\n');
      if (end === -1) {
        client.write(chunk);
        return;
      }
      headersDone = true;
      client.write(chunk.subarray(0, end + 4), () => {
        client.resetAndDestroy();
        upstream.destroy();
      });
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  if (typeof address !== 'object' || address === null) throw new Error('no proxy address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

describe('a link cut while it opens', () => {
  const cleanups = cleanupsAfterEach();

  it('tries again after a backoff step, not after the 10 s handshake timeout', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    const name = deviceName('alice');
    // Sign up and store the session over a clean link first.
    const first = await openDevice(server.url, name, { name: 'alice' });
    await waitFor('the sign-up', () => first.engine.connection.status === 'connected');
    await first.engine.destroy();

    const proxy = await proxyCuttingAfterUpgrade(server.port, 2);
    cleanups.push(() => proxy.stop());
    const started = performance.now();
    const alice = await openDevice(proxy.url, name, { room: 'lobby' });
    cleanups.push(() => alice.engine.destroy());
    await waitFor('alice to connect', () => alice.engine.connection.status === 'connected', 25_000);
    const connectMs = performance.now() - started;
    console.log(`connected after 2 cuts during the upgrade: ${connectMs.toFixed(0)} ms`);
    expect(connectMs).toBeLessThan(5_000);
  }, 30_000);
});
