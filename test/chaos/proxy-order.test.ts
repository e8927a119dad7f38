import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { FaultProxy } from '../support/fault-proxy.ts';

/**
 * The fault proxy is part of the chaos suite's model of the network: what it does must be
 * what a network does. TCP never reorders bytes; a capped link delivers at its rate; a
 * device whose link died hears nothing, not even a reset.
 */
describe('fault proxy', () => {
  const cleanups = cleanupsAfterEach();

  /** A sink server, its received bytes, and a proxy in front of it. */
  async function setUp(): Promise<{
    proxy: FaultProxy;
    received: () => string;
    serverSide: () => Socket[];
  }> {
    let received = '';
    const sockets: Socket[] = [];
    const sink: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          sink.close(() => resolve());
        }),
    );
    const address = sink.address();
    const proxy = await FaultProxy.start({
      port: typeof address === 'object' && address ? address.port : 0,
    });
    cleanups.push(() => proxy.stop());
    return { proxy, received: () => received, serverSide: () => sockets };
  }

  async function open(proxy: FaultProxy): Promise<Socket> {
    const client = connect(proxy.port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    return client;
  }

  async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Regression for the first bug the chaos suite found (seed 1495005963, CI profile): with
   * latency and jitter on, the proxy let chunks of one TCP stream overtake each other, so
   * the server received a client's `send` batches out of order.
   */
  it('delivers a stream in order under jitter and while switching modes', async () => {
    const { proxy, received } = await setUp();
    const client = await open(proxy);
    const CHUNKS = 1_500;
    let expected = '';
    for (let i = 0; i < CHUNKS; i++) {
      if (i % 300 === 0) proxy.setMode({ kind: 'delay', ms: 4, jitterMs: 4 });
      if (i % 300 === 250) proxy.setMode({ kind: 'pass' });
      if (i === 700) proxy.setBandwidth({ upBytesPerSecond: 200_000 });
      if (i === 900) proxy.setBandwidth({});
      const piece = `${i},`;
      expected += piece;
      client.write(piece);
      // A turn of the event loop between writes, so the proxy sees them as separate chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => received().length >= expected.length);
    expect(received()).toBe(expected);
  });

  it('delivers upstream at the capped rate, in order, and no faster', async () => {
    const { proxy, received } = await setUp();
    const BYTES_PER_SECOND = 40_000;
    proxy.setBandwidth({ upBytesPerSecond: BYTES_PER_SECOND });
    const client = await open(proxy);
    // 100 KB: past the proxy's 64 KB high-water mark, so the sender's own queue grows too.
    const payload = Array.from({ length: 10_000 }, (_, i) => `${String(i).padStart(9, '.')},`).join(
      '',
    );
    const started = Date.now();
    client.write(payload);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // After 1 s, about 40 KB are through: well under all of it.
    expect(received().length).toBeLessThan(60_000);
    await until(() => received().length >= payload.length);
    expect(received()).toBe(payload);
    const seconds = (Date.now() - started) / 1_000;
    expect(seconds).toBeGreaterThan((payload.length / BYTES_PER_SECOND) * 0.9);
  });

  it('keeps a severed link silent and open until restored; a new link then passes', async () => {
    const { proxy, received, serverSide } = await setUp();
    const first = await open(proxy);
    let closed = false;
    first.on('close', () => {
      closed = true;
    });
    await until(() => serverSide().length === 1);
    proxy.sever();
    first.write('lost');
    proxy.cutAll();
    for (const socket of serverSide()) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Neither the cut nor the server's close reached the device, and nothing passed.
    expect(closed).toBe(false);
    expect(received()).toBe('');

    proxy.restore();
    // In reach again: the device learns of the server's close when it next sends.
    first.write('again');
    await until(() => closed);
    expect(closed).toBe(true);
    expect(received()).toBe('');
    const second = await open(proxy);
    second.write('through');
    await until(() => received() === 'through');
    expect(received()).toBe('through');
  });
});
