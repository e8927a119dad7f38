import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('a small rate limit and two tabs of one profile', () => {
  const cleanups = cleanupsAfterEach();

  it('delivers every message once, in order, with no storm of refused batches, when both tabs flush', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    let refused = 0;
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { messageRate: { capacity: 10, refillPerMinute: 600 } },
    });
    cleanups.push(() => server.stop());
    server.server.io.on('connection', (socket) => {
      socket.conn.on('packetCreate', (packet: { data?: unknown }) => {
        if (typeof packet.data === 'string' && packet.data.includes('rate_limited')) refused += 1;
      });
    });
    const profile = deviceName('profile');
    const tabA = await openDevice(server.url, profile, {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    const typed = Array.from({ length: 40 }, (_, i) => `burst ${i}`);
    for (const body of typed) await tabA.engine.send('lobby', body);
    const tabB = await openDevice(server.url, profile, { room: 'lobby', online: false });
    cleanups.push(
      () => tabA.engine.destroy(),
      () => tabB.engine.destroy(),
    );

    const started = Date.now();
    tabA.connectivity.set(true);
    tabB.connectivity.set(true);
    await waitFor(
      'all 40 to be stored',
      async () => (await server.store.count('lobby')) === 40,
      20_000,
    );
    await waitFor(
      'both tabs to settle',
      () => tabA.engine.outboxCount === 0 && tabB.engine.outboxCount === 0,
      20_000,
    );
    const elapsedS = (Date.now() - started) / 1_000;
    console.log(
      `40 messages, 2 tabs, burst 10: ${elapsedS.toFixed(1)} s, ${refused} refused answers`,
    );

    expect(bodies(await server.store.pageAfter('lobby', 0, 100))).toEqual(typed);
    for (const tab of [tabA, tabB]) {
      const view = tab.engine.room('lobby').messages;
      expect(duplicateIds(view)).toEqual([]);
      expect(view.every((message) => message.status === 'sent')).toBe(true);
    }
    // Two tabs, each resending no faster than every half second, one batch at a time.
    expect(refused).toBeLessThanOrEqual(2 * (elapsedS / 0.5 + 2));
  });
});
