import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir, withAfterAppend } from '../support/server.ts';

describe('per-user rate limit', () => {
  const cleanups = cleanupsAfterEach();

  it('holds a burst past the limit back and delivers all of it, in order, once each, as the bucket refills', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const batchSizes: number[] = [];
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { messageRate: { capacity: 10, refillPerMinute: 1_200 } },
      wrapStore: (store) => {
        const counted = withAfterAppend(store, () => {});
        return {
          ...counted,
          appendBatch: (room, author, items, now) => {
            batchSizes.push(items.length);
            return counted.appendBatch(room, author, items, now);
          },
        };
      },
    });
    cleanups.push(() => server.stop());
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());
    const typed = Array.from({ length: 60 }, (_, i) => `burst ${i}`);
    for (const body of typed) await alice.engine.send('lobby', body);

    alice.connectivity.set(true);
    await waitFor('the burst to drain', () => alice.engine.outboxCount === 0, 20_000);

    // The first batch got the whole bucket; everything after it came in small refills.
    expect(batchSizes[0]).toBe(10);
    expect(Math.max(...batchSizes.slice(1))).toBeLessThan(10);
    const stored = await server.store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(typed);
    const view = alice.engine.room('lobby').messages;
    expect(duplicateIds(view)).toEqual([]);
    expect(view.every((m) => m.status === 'sent')).toBe(true);
  });
});
