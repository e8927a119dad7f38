import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { SendAck } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('server restart over the same SQLite file', () => {
  const cleanups = cleanupsAfterEach();

  it('keeps history, sessions and dedup: an old id sent again gets its original seq and is not stored twice', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());

    const ids = Array.from({ length: 3 }, () => newMessageId());
    const alice = await signUp(server.url, 'alice');
    const first = await rawClient(server.url, { token: alice.token });
    const before: SendAck = await first.emitWithAck('send', {
      room: 'lobby',
      messages: ids.map((id, i) => ({ id, body: `before restart ${i}` })),
    });
    first.close();
    expect(before.ok && before.results.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);

    await server.stop();
    await server.restart();

    const again = await rawClient(server.url, { token: alice.token });
    cleanups.push(() => void again.close());
    const after: SendAck = await again.emitWithAck('send', {
      room: 'lobby',
      messages: [
        { id: ids[1] as string, body: 'before restart 1' },
        { id: newMessageId(), body: 'new' },
      ],
    });
    expect(after.ok).toBe(true);
    if (!after.ok || !before.ok) return;
    const original = before.results[1];
    expect(after.results[0]).toEqual({ ...original, status: 'duplicate' });
    expect(after.results[1]).toMatchObject({ status: 'accepted', seq: 4 });
    expect(await server.store.count('lobby')).toBe(4);

    const reader = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: 'lobby' });
    cleanups.push(() => reader.engine.destroy());
    await waitFor('bob to load history', () => reader.engine.room('lobby').messages.length === 4);
    expect(bodies(reader.engine.room('lobby').messages)).toEqual([
      'before restart 0',
      'before restart 1',
      'before restart 2',
      'new',
    ]);
  });
});
