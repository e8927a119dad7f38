import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, duplicateIds, openDevice, waitFor } from '../support/engine.ts';
import { freePort, startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('durable outbox', () => {
  const cleanups = cleanupsAfterEach();

  it('delivers 200 messages typed while the server was down, across a reload, exactly once and in order', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const db = deviceName('alice');

    const first = await openDevice(url, db, { name: 'alice', room: 'lobby' });
    const typed: string[] = [];
    for (let i = 0; i < 200; i++) {
      typed.push(`offline message ${i}`);
      const pending = await first.engine.send('lobby', typed[i] as string);
      expect(pending.status).toBe('pending');
    }
    expect(first.engine.outboxCount).toBe(200);
    expect(first.engine.connection.status).not.toBe('connected');
    await first.engine.destroy(); // the reload

    const second = await openDevice(url, db, { room: 'lobby' });
    cleanups.push(() => second.engine.destroy());
    expect(second.engine.identity?.name).toBe('alice');
    expect(second.engine.outboxCount).toBe(200);
    expect(bodies(second.engine.room('lobby').messages)).toEqual(typed);
    expect(second.engine.room('lobby').messages.every((m) => m.status === 'pending')).toBe(true);

    const server: TestServer = await startTestServer({ dbPath: `${dir.path}/ferry.db`, port });
    cleanups.push(() => server.stop());

    await waitFor('the outbox to drain', () => second.engine.outboxCount === 0);
    await waitFor('every message to show sent', () =>
      second.engine.room('lobby').messages.every((m) => m.status === 'sent'),
    );
    const stored = await server.store.pageAfter('lobby', 0, 500);
    expect(bodies(stored)).toEqual(typed);
    expect(stored.map((m) => m.seq)).toEqual(typed.map((_, i) => i + 1));
    expect(stored.every((m) => m.author === 'alice')).toBe(true);
    const view = second.engine.room('lobby').messages;
    expect(bodies(view)).toEqual(typed);
    expect(duplicateIds(view)).toEqual([]);
  });
});
