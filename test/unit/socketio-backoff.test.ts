// installBackoff replaces a private field of socket.io-client's Manager. These tests run a
// real Manager against a loopback port where nothing listens, so they fail if an upgrade of
// socket.io-client stops asking the installed Backoff for its reconnect delays.
import { createServer } from 'node:net';
import { Manager } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../../src/client/backoff.ts';
import { installBackoff } from '../../src/client/socketio-backoff.ts';

/** A loopback port that refuses connections: bound once to pick it, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port was bound');
  return address.port;
}

const managers: Manager[] = [];

afterEach(() => {
  for (const manager of managers.splice(0)) manager._close();
});

async function refusedManager(): Promise<Manager> {
  const manager = new Manager(`http://127.0.0.1:${await closedPort()}`, {
    reconnection: true,
    autoConnect: false,
    transports: ['websocket'],
    timeout: 2_000,
  });
  managers.push(manager);
  return manager;
}

describe('installBackoff', () => {
  it("makes socket.io's Manager ask the installed Backoff for every reconnect delay", async () => {
    const manager = await refusedManager();
    const delays: { attempt: number; delayMs: number; at: number }[] = [];
    const onDelay = vi.fn((attempt: number, delayMs: number) => {
      delays.push({ attempt, delayMs, at: performance.now() });
    });
    const attempts: { attempt: number; at: number }[] = [];
    manager.on('reconnect_attempt', (attempt) => attempts.push({ attempt, at: performance.now() }));
    installBackoff(
      manager,
      new Backoff({ minMs: 40, maxMs: 1_000, factor: 2, jitter: 0 }, { onDelay }),
    );

    manager.open();
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });

    expect(onDelay.mock.calls.slice(0, 3)).toEqual([
      [1, 40],
      [2, 80],
      [3, 160],
    ]);
    // socket.io numbers its attempts from the installed Backoff, and waits the delay it gave.
    for (const [i, { attempt, at }] of attempts.slice(0, 3).entries()) {
      const delay = delays[i] as (typeof delays)[number];
      expect(attempt).toBe(delay.attempt);
      expect(at - delay.at).toBeGreaterThanOrEqual(delay.delayMs - 2);
    }
  });

  it('lets socket.io reset the installed Backoff when the Manager closes', async () => {
    const manager = await refusedManager();
    const backoff = new Backoff({ minMs: 20, maxMs: 100, factor: 2, jitter: 0 });
    installBackoff(manager, backoff);
    manager.open();
    await vi.waitFor(() => expect(backoff.attempts).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    manager._close();
    expect(backoff.attempts).toBe(0);
  });

  it.each<[string, unknown]>([
    ['an object with no backoff slot', {}],
    ['a null backoff slot', { backoff: null }],
    ['a backoff slot without duration()', { backoff: { reset() {} } }],
  ])("throws a clear error when given %s instead of socket.io's Manager", (_what, notAManager) => {
    expect(() => installBackoff(notAManager as Manager, new Backoff())).toThrow(
      /Manager has no backoff to replace/,
    );
  });
});
