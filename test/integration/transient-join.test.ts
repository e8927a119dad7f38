// A server that fails a join or a history page once (a store briefly locked) answers
// `internal`: the engine asks again after a wait and the room syncs, never shown as denied.
// A refusal asking again cannot change (`forbidden`) still denies the room at once.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { AccountStore } from '../../src/server/store/account-store.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import { MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, type TestDevice, waitFor } from '../support/engine.ts';
import {
  beforeAccounts,
  startTestServer,
  type TestServer,
  tempDir,
  withStoreOverrides,
} from '../support/server.ts';

const LOCKED = () => new Error('database is locked');

describe('a join or history page the server fails once', () => {
  const cleanups = cleanupsAfterEach();
  /** Calls to fail before the real store answers; the test arms them. */
  const failing = { roomAccess: 0, pageAfter: 0 };

  async function server(): Promise<TestServer> {
    failing.roomAccess = 0;
    failing.pageAfter = 0;
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      // `join` reads the room's access first: failing it fails the join, as a locked store does.
      wrapAccounts: (accounts: AccountStore) =>
        beforeAccounts(accounts, 'roomAccess', async () => {
          if (failing.roomAccess > 0) {
            failing.roomAccess -= 1;
            throw LOCKED();
          }
        }),
      wrapStore: (store) => withFailingPageAfter(store),
    });
    cleanups.push(() => started.stop());
    return started;
  }

  function withFailingPageAfter(store: MessageStore): MessageStore {
    return withStoreOverrides(store, {
      pageAfter: async (...args) => {
        if (failing.pageAfter > 0) {
          failing.pageAfter -= 1;
          throw LOCKED();
        }
        return store.pageAfter(...args);
      },
    });
  }

  /** When each `event` request for `room` reached the server. */
  function requestsOf(server: TestServer, event: string, room: string): number[] {
    const at: number[] = [];
    server.server.io.on('connection', (socket) => {
      socket.onAny((name: string, payload: { room?: unknown } | undefined) => {
        if (name === event && payload?.room === room) at.push(performance.now());
      });
    });
    return at;
  }

  async function seed(server: TestServer, room: string, count: number): Promise<void> {
    const items = Array.from({ length: count }, (_, i) => ({
      id: newMessageId(),
      body: `seed ${i}`,
    }));
    await server.store.appendBatch(room, { id: 'seed', name: 'seed' }, items, Date.now());
  }

  async function connected(server: TestServer, name: string): Promise<TestDevice> {
    const device = await openDevice(server.url, deviceName(name), { name });
    cleanups.push(() => device.engine.destroy());
    await waitFor(`${name} connected`, () => device.engine.connection.status === 'connected');
    return device;
  }

  /** Records whether `room` was ever shown as denied. */
  function watchDenied(device: TestDevice, room: string): { seen: string | null } {
    const denied = { seen: null as string | null };
    cleanups.push(
      device.engine.subscribe(() => {
        denied.seen ??= device.engine.room(room).denied;
      }),
    );
    return denied;
  }

  it('joins and catches up a room whose first join was answered internal, after a pause', async () => {
    const ferry = await server();
    const joins = requestsOf(ferry, 'join', 'lobby');
    await seed(ferry, 'lobby', 5);
    const alice = await connected(ferry, 'alice');
    const denied = watchDenied(alice, 'lobby');

    failing.roomAccess = 1;
    await alice.engine.openRoom('lobby');
    await waitFor(
      'the room joined and caught up',
      () => {
        if (denied.seen) throw new Error(`the room was shown denied: ${denied.seen}`);
        return alice.engine.room('lobby').messages.length === 5;
      },
      10_000,
    );

    expect(failing.roomAccess).toBe(0);
    expect(joins).toHaveLength(2);
    expect((joins[1] as number) - (joins[0] as number)).toBeGreaterThanOrEqual(
      MIN_RETRY_AFTER_MS - 50,
    );
    expect(alice.engine.room('lobby').denied).toBeNull();
  });

  it('catches a room up whose first history page was answered internal, after a pause', async () => {
    const ferry = await server();
    await seed(ferry, 'lobby', 5);
    const pages = requestsOf(ferry, 'history', 'lobby');
    const alice = await connected(ferry, 'alice');
    const denied = watchDenied(alice, 'lobby');

    failing.pageAfter = 1;
    await alice.engine.openRoom('lobby');
    await waitFor(
      'the room caught up',
      () => alice.engine.room('lobby').messages.length === 5,
      10_000,
    );
    expect(failing.pageAfter).toBe(0);
    expect(alice.engine.room('lobby').catchingUp).toBeNull();
    expect(pages).toHaveLength(2);
    expect((pages[1] as number) - (pages[0] as number)).toBeGreaterThanOrEqual(
      MIN_RETRY_AFTER_MS - 50,
    );
    expect(denied.seen).toBeNull();
  });

  it('still denies a private room at once when the join is answered forbidden', async () => {
    const ferry = await server();
    const bob = await connected(ferry, 'bob');
    const { room } = await bob.engine.createPrivateRoom();
    const joins = requestsOf(ferry, 'join', room);
    const alice = await connected(ferry, 'alice');

    const started = performance.now();
    await alice.engine.openRoom(room);
    await waitFor('the room denied', () => alice.engine.room(room).denied !== null, 5_000);

    expect(performance.now() - started).toBeLessThan(MIN_RETRY_AFTER_MS);
    expect(alice.engine.room(room).denied).toMatch(/private/);
    // Nothing is asked again: the same join would be refused again.
    await new Promise((resolve) => setTimeout(resolve, 2 * MIN_RETRY_AFTER_MS));
    expect(joins).toHaveLength(1);
  });
});
