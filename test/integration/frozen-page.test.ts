import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice } from '../support/engine.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/** socket.io's heartbeat, shortened so that a page can sleep past its deadline in a test. */
const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 200;

/**
 * Waits while the page's timers are frozen (fake) except when this advances them: real
 * time passes for sockets and IndexedDB, and fake time moves in small steps.
 */
async function waitWithFakeTimers(what: string, check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await vi.advanceTimersByTimeAsync(25);
    await sleep(5);
  }
}

describe('a page whose timers froze while its link died', () => {
  const cleanups = cleanupsAfterEach();
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stores one sender's messages in the order typed when it wakes past socket.io's ping deadline and types", async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: {
        socketOptions: { pingInterval: PING_INTERVAL_MS, pingTimeout: PING_TIMEOUT_MS },
      },
    });
    cleanups.push(() => server.stop());
    const proxy = await FaultProxy.start({ port: server.port });
    cleanups.push(() => proxy.stop());

    // Every timer of the page is fake from here on: it fires only when the test says, which
    // is what a frozen background tab or a sleeping phone looks like. The clock is real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const alice = await openDevice(proxy.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      heartbeat: { intervalMs: 600_000, timeoutMs: 600_000 },
    });
    cleanups.push(() => alice.engine.destroy());
    await waitWithFakeTimers(
      'alice to connect',
      () => alice.engine.connection.status === 'connected',
    );
    await alice.engine.send('lobby', 'warm-up');
    await waitWithFakeTimers('the warm-up to be sent', () => alice.engine.outboxCount === 0);

    // The link dies without a word, and "first" goes out into it. Then the page sleeps
    // past socket.io's ping deadline without any timer firing, wakes, and "second" is typed.
    proxy.sever();
    await alice.engine.send('lobby', 'first');
    await sleep(PING_INTERVAL_MS + PING_TIMEOUT_MS + 300);
    await alice.engine.send('lobby', 'second');

    proxy.restore();
    await waitWithFakeTimers('alice to deliver both', () => alice.engine.outboxCount === 0);
    const stored = await server.store.pageAfter('lobby', 0, 10);
    expect(bodies(stored)).toEqual(['warm-up', 'first', 'second']);
  });
});
