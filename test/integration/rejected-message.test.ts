import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

describe('a message the server rejects', () => {
  const cleanups = cleanupsAfterEach();

  it('ends failed with a reason, leaves the outbox, and does not hold back the messages after it', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      room: 'lobby',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());

    await alice.engine.send('lobby', 'one');
    const tooLong = await alice.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    await alice.engine.send('lobby', 'three');
    alice.connectivity.set(true);

    await waitFor('the outbox to drain', () => alice.engine.outboxCount === 0);
    await waitFor('every message to settle', () =>
      alice.engine.room('lobby').messages.every((m) => m.status !== 'pending'),
    );
    const view = alice.engine.room('lobby').messages;
    const failed = view.find((m) => m.id === tooLong.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.status === 'failed' && failed.error).toEqual({
      code: 'body_too_long',
      reason: expect.any(String),
    });
    expect(bodies(await server.store.pageAfter('lobby', 0, 10))).toEqual(['one', 'three']);
    // Sent messages first in server order, then the failed one where the user can act on it.
    expect(view.map((m) => m.status)).toEqual(['sent', 'sent', 'failed']);
  });

  it('can be discarded by the user, and stays discarded after a reload', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    cleanups.push(() => server.stop());
    const db = deviceName('alice');
    const alice = await openDevice(server.url, db, { name: 'alice', room: 'lobby' });
    const tooLong = await alice.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    await waitFor(
      'the message to fail',
      () => alice.engine.room('lobby').messages[0]?.status === 'failed',
    );

    await alice.engine.discard('lobby', tooLong.id);
    expect(alice.engine.room('lobby').messages).toEqual([]);
    await alice.engine.destroy();
    const reloaded = await openDevice(server.url, db, { room: 'lobby' });
    cleanups.push(() => reloaded.engine.destroy());
    expect(reloaded.engine.room('lobby').messages).toEqual([]);
  });
});
