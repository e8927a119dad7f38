import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { emitRaw, type RawSocket, rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir, withAppend } from '../support/server.ts';

/** A store whose appends wait until the test opens the valve, so requests pile up. */
function withValve(store: MessageStore): { store: MessageStore; open(): void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    store: withAppend(store, async (...args) => {
      await opened;
      return store.appendBatch(...args);
    }),
    open: () => open(),
  };
}

describe("one socket's queue of requests", () => {
  const cleanups = cleanupsAfterEach();

  async function blockedServer(): Promise<{ server: TestServer; socket: RawSocket; open(): void }> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    let valve: ReturnType<typeof withValve> | undefined;
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapStore: (store) => {
        valve = withValve(store);
        return valve.store;
      },
    });
    cleanups.push(() => server.stop());
    const socket = await rawClient(server.url, {
      token: (await signUp(server.url, 'alice')).token,
    });
    cleanups.push(() => void socket.close());
    return { server, socket, open: () => valve?.open() };
  }

  it('serves every request a client pipelines within the bound, in order', async () => {
    const { server, socket, open } = await blockedServer();
    // Ferry's own client has at most 10 batches in flight; 50 is well past that.
    const sent = Array.from({ length: 50 }, (_, i) =>
      sendBatch(socket, 'lobby', [{ id: newMessageId(), body: `${i}` }]),
    );
    setTimeout(open, 200);
    const acks = await Promise.all(sent);
    expect(acks.map((ack) => ack.results?.[0]?.seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(await server.store.count('lobby')).toBe(50);
  });

  it('drops a socket that pipelines more than 64 requests behind a slow one', async () => {
    const { socket, open } = await blockedServer();
    const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    // The first batch waits on the store; everything after it queues behind it.
    const pending = [sendBatch(socket, 'lobby', [{ id: newMessageId(), body: 'slow' }])];
    for (let i = 0; i < 200; i++) {
      pending.push(emitRaw(socket, 'history', { room: 'lobby', after: 0, limit: 10 }) as never);
    }
    const stillUp = new Promise((resolve) => setTimeout(resolve, 3_000)).then(
      () => 'still connected with 200 requests queued',
    );
    expect(await Promise.race([dropped, stillUp])).toBe('io server disconnect');
    open();
    await Promise.allSettled(pending);
  });
});
