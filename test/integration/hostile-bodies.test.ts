import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS } from '../../src/shared/limits.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { startTestServer, tempDir } from '../support/server.ts';

/** Characters JSON escapes as six bytes each (`\u0001`, `\ud800`): worst case for a batch. */
const CONTROL = '\u0001';
const LONE_SURROGATE = '\ud800';
const REPLACEMENT = '\ufffd';

describe('bodies that are hard to carry', () => {
  const cleanups = cleanupsAfterEach();

  async function device() {
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
    return { server, alice };
  }

  it('sizes batches by their encoded bytes, so bodies of control characters all arrive', async () => {
    const { server, alice } = await device();
    // Each body is 3,000 units that JSON encodes as 18,000 bytes; three per batch by
    // length times three would be a 54 KB packet of 27 KB estimated.
    const typed = Array.from({ length: 8 }, (_, i) => `${i} ${CONTROL.repeat(3_000)}`);
    for (const body of typed) await alice.engine.send('lobby', body);
    alice.connectivity.set(true);
    await waitFor('all of them to be delivered', () => alice.engine.outboxCount === 0, 15_000);
    expect(bodies(await server.store.pageAfter('lobby', 0, 20))).toEqual(typed);
  });

  it('sends a lone surrogate as U+FFFD, so the pending echo, the stored body and the sent view agree', async () => {
    const { server, alice } = await device();
    const pending = await alice.engine.send('lobby', `a${LONE_SURROGATE.repeat(3_000)}b`);
    expect(pending.body).toBe(`a${REPLACEMENT.repeat(3_000)}b`);
    alice.connectivity.set(true);
    await waitFor('it to be delivered', () => alice.engine.outboxCount === 0, 15_000);
    expect(bodies(await server.store.pageAfter('lobby', 0, 20))).toEqual([pending.body]);
    expect(alice.engine.room('lobby').messages).toMatchObject([
      { id: pending.id, status: 'sent', body: pending.body },
    ]);
  });

  it('sends a NUL as U+FFFD, so that every store keeps what the pending echo showed', async () => {
    const { server, alice } = await device();
    const pending = await alice.engine.send('lobby', 'a\u0000b');
    expect(pending.body).toBe(`a${REPLACEMENT}b`);
    alice.connectivity.set(true);
    await waitFor('it to be delivered', () => alice.engine.outboxCount === 0, 15_000);
    expect(bodies(await server.store.pageAfter('lobby', 0, 20))).toEqual([pending.body]);
  });

  it('fails a body no packet can carry on the device, with a clear reason, and delivers what was typed after it', async () => {
    const { server, alice } = await device();
    await alice.engine.send('lobby', 'before');
    const huge = await alice.engine.send('lobby', LONE_SURROGATE.repeat(12_000));
    await alice.engine.send('lobby', 'after');
    alice.connectivity.set(true);
    await waitFor('the outbox to move past it', () => alice.engine.outboxCount === 0, 15_000);
    expect(bodies(await server.store.pageAfter('lobby', 0, 10))).toEqual(['before', 'after']);
    const shown = alice.engine.room('lobby').messages.find((message) => message.id === huge.id);
    expect(shown).toMatchObject({ status: 'failed', error: { code: 'body_too_long' } });
  });

  it('has the server refuse a body just over the limit as body_too_long, and stores one at the limit', async () => {
    const { server, alice } = await device();
    const atLimit = await alice.engine.send('lobby', CONTROL.repeat(MAX_BODY_CHARS));
    const over = await alice.engine.send('lobby', 'x'.repeat(MAX_BODY_CHARS + 1));
    alice.connectivity.set(true);
    await waitFor('both to settle', () => alice.engine.outboxCount === 0, 15_000);
    const stored = await server.store.pageAfter('lobby', 0, 10);
    expect(stored.map((message) => message.id)).toEqual([atLimit.id]);
    const shown = alice.engine.room('lobby').messages.find((message) => message.id === over.id);
    expect(shown).toMatchObject({ status: 'failed', error: { code: 'body_too_long' } });
  });
});
