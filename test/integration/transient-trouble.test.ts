import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import type { AccountStore } from '../../src/server/store/account-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { beforeAccounts, startTestServer, tempDir } from '../support/server.ts';

describe('trouble that passes', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose accounts fail `method` the first `failures` times it is called. */
  async function serverWith(method: keyof AccountStore, failures: number) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    let left = failures;
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapAccounts: (accounts) =>
        beforeAccounts(accounts, method, async () => {
          if (left <= 0) return;
          left -= 1;
          throw new Error('the disk is busy');
        }),
    });
    cleanups.push(() => server.stop());
    return server;
  }

  it('retries a sign-up the server failed (500) with backoff instead of parking in failed', async () => {
    const server = await serverWith('createUser', 2);
    const alice = await openDevice(server.url, deviceName('alice'), { room: 'lobby' });
    cleanups.push(() => alice.engine.destroy());
    const seen = new Set<string>();
    alice.engine.subscribe(() => seen.add(alice.engine.connection.status));
    await alice.engine.setIdentity('alice');
    await alice.engine.send('lobby', 'hello');
    await waitFor('alice to connect', () => alice.engine.connection.status === 'connected', 10_000);
    await waitFor('hello to be sent', () => alice.engine.outboxCount === 0);
    expect(seen.has('failed')).toBe(false);
    expect(seen.has('reconnecting')).toBe(true);
    expect(bodies(await server.store.pageAfter('lobby', 0, 10))).toEqual(['hello']);
  });

  it('retries a handshake whose session lookup failed on the server, and keeps the session', async () => {
    const server = await serverWith('sessionUser', 2);
    const dbName = deviceName('alice');
    const first = await openDevice(server.url, dbName, { name: 'alice', room: 'lobby' });
    // The sign-up itself does not look the session up; the handshake right after it does.
    await waitFor('alice to connect', () => first.engine.connection.status === 'connected', 10_000);
    const session = first.engine.identity?.session;
    await first.engine.destroy();

    const reloaded = await Engine.create({ url: server.url, dbName });
    cleanups.push(() => reloaded.destroy());
    await waitFor(
      'the reload to connect',
      () => reloaded.connection.status === 'connected',
      10_000,
    );
    expect(reloaded.identity?.session).toEqual(session);
  });
});
