import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { FaultProxy } from '../support/fault-proxy.ts';

/**
 * Regression for the first bug the chaos suite found (seed 1495005963, CI profile): with
 * latency and jitter on, the fault proxy let chunks of one TCP stream overtake each other,
 * so the server received a client's `send` batches out of order. TCP never reorders bytes;
 * the proxy must not either, whatever its mode does between two chunks.
 */
describe('fault proxy byte order', () => {
  const cleanups = cleanupsAfterEach();

  it('delivers a stream in order under jitter and while switching modes', async () => {
    let received = '';
    const sink: Server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => sink.close(() => resolve())));
    const address = sink.address();
    const proxy = await FaultProxy.start({
      port: typeof address === 'object' && address ? address.port : 0,
    });
    cleanups.push(() => proxy.stop());

    const client = connect(proxy.port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));

    const CHUNKS = 1_500;
    let expected = '';
    for (let i = 0; i < CHUNKS; i++) {
      if (i % 300 === 0) proxy.setMode({ kind: 'delay', ms: 4, jitterMs: 4 });
      if (i % 300 === 250) proxy.setMode({ kind: 'pass' });
      const piece = `${i},`;
      expected += piece;
      client.write(piece);
      // A turn of the event loop between writes, so the proxy sees them as separate chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 10_000;
    while (received.length < expected.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(received).toBe(expected);
  });
});
