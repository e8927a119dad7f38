import { describe, expect, it } from 'vitest';
import type { Visibility } from '../../src/client/visibility.ts';
import { settleSyncEvent } from '../../src/sw/outbox-sync-event.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir, withAppend } from '../support/server.ts';

/** A page whose visibility the test flips. */
function manualVisibility(): Visibility & { set(visible: boolean): void } {
  let visible = true;
  const listeners = new Set<(visible: boolean) => void>();
  return {
    isVisible: () => visible,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      visible = next;
      for (const listener of listeners) listener(next);
    },
  };
}

/** When the page asks the service worker for a Background Sync (`onOutboxWaiting`). */
describe('asking for a background sync', () => {
  const cleanups = cleanupsAfterEach();

  /** A connected tab; the server takes `appendDelayMs` to store each batch. */
  async function tab(appendDelayMs = 0) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapStore: (store) =>
        withAppend(store, async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, appendDelayMs));
          return store.appendBatch(...args);
        }),
    });
    cleanups.push(() => server.stop());
    const visibility = manualVisibility();
    let asked = 0;
    const device = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      visibility,
      onOutboxWaiting: () => {
        asked += 1;
      },
    });
    cleanups.push(() => device.engine.destroy());
    await waitFor('alice to connect', () => device.engine.connection.status === 'connected');
    return { ...device, visibility, asked: () => asked };
  }

  it('asks when a message is queued while the tab is not connected', async () => {
    const { engine, connectivity, asked } = await tab();
    connectivity.set(false);
    await waitFor('offline', () => engine.connection.status !== 'connected');
    await engine.send('lobby', 'in the tunnel');
    expect(asked()).toBe(1);
  });

  it('asks once for all the messages queued while the link stays down, and again after it was back', async () => {
    const { engine, connectivity, asked } = await tab();
    connectivity.set(false);
    await waitFor('offline', () => engine.connection.status !== 'connected');
    for (const body of ['one', 'two', 'three']) await engine.send('lobby', body);
    expect(asked()).toBe(1);
    connectivity.set(true);
    await waitFor('sent', () => engine.outboxCount === 0);
    connectivity.set(false);
    await waitFor('offline again', () => engine.connection.status !== 'connected');
    await engine.send('lobby', 'four');
    expect(asked()).toBe(2);
  });

  it('does not ask when a message is queued while connected', async () => {
    const { engine, asked } = await tab();
    await engine.send('lobby', 'on the platform');
    expect(asked()).toBe(0);
  });

  it('asks when the link drops while a message is on the wire', async () => {
    const { engine, connectivity, asked } = await tab(1_000);
    await engine.send('lobby', 'on the wire');
    expect(engine.outboxCount).toBe(1);
    connectivity.set(false);
    await waitFor('offline', () => engine.connection.status !== 'connected');
    expect(asked()).toBe(1);
  });

  it('asks again when the page is hidden with messages waiting, and not when the outbox is empty', async () => {
    const { engine, connectivity, visibility, asked } = await tab();
    visibility.set(false);
    expect(asked()).toBe(0);
    visibility.set(true);
    connectivity.set(false);
    await waitFor('offline', () => engine.connection.status !== 'connected');
    await engine.send('lobby', 'still waiting');
    visibility.set(false);
    expect(asked()).toBe(2);
  });
});

describe('what the worker tells the browser of a run', () => {
  const retry = { kind: 'retry', sent: 1, failed: 0, reason: 'no network' } as const;

  it('asks the browser to retry a run that stopped at something passing', () => {
    expect(() => settleSyncEvent(retry, false)).toThrow('no network');
  });

  it('does not ask for a retry on the last chance: the next open sends the rest', () => {
    expect(() => settleSyncEvent(retry, true)).not.toThrow();
  });

  it('asks for a retry after stepping aside for a tab, which may freeze before it is done', () => {
    expect(() => settleSyncEvent({ kind: 'busy' }, false)).toThrow('busy');
    expect(() => settleSyncEvent({ kind: 'busy' }, true)).not.toThrow();
  });

  it('ends a run that sent everything, or that stopped at something a retry cannot mend', () => {
    expect(() => settleSyncEvent({ kind: 'done', sent: 3, failed: 0 }, false)).not.toThrow();
    const stuck = { kind: 'stuck', sent: 0, failed: 0, reason: 'sign-up refused' } as const;
    expect(() => settleSyncEvent(stuck, false)).not.toThrow();
  });
});
