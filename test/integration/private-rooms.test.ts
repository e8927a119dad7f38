import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { deviceName, openDevice, waitFor } from '../support/engine.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('private rooms', () => {
  const dir = tempDir();
  let server: TestServer;
  let owner: RawSocket;
  let stranger: RawSocket;
  let room: string;
  let invite: string;

  beforeAll(async () => {
    server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    owner = await rawClient(server.url, { token: (await signUp(server.url, 'owner')).token });
    stranger = await rawClient(server.url, { token: (await signUp(server.url, 'stranger')).token });
    const created = (await emitRaw(owner, 'createRoom', {})) as {
      ok: true;
      room: string;
      invite: string;
    };
    ({ room, invite } = created);
    await emitRaw(owner, 'join', { room });
    await emitRaw(owner, 'send', {
      room,
      messages: [{ id: newMessageId(), body: 'members only' }],
    });
  });
  afterAll(async () => {
    owner.close();
    stranger.close();
    await server.stop();
    dir.dispose();
  });

  it('gives the creator an unguessable room id and invite secret', () => {
    expect(room).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Buffer.from(invite, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('does not let a non-member join, read history or send, even with raw events', async () => {
    expect(await emitRaw(stranger, 'join', { room })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await emitRaw(stranger, 'history', { room, after: 0, limit: 50 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await emitRaw(stranger, 'history', { room, before: 100, limit: 50 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const send = await emitRaw(stranger, 'send', {
      room,
      messages: [{ id: newMessageId(), body: 'let me in' }],
    });
    expect(send).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await server.store.count(room)).toBe(1);
  });

  it('does not deliver a private room broadcast to a non-member', async () => {
    const received: unknown[] = [];
    stranger.on('messages', (event) => received.push(event));
    await emitRaw(owner, 'send', {
      room,
      messages: [{ id: newMessageId(), body: 'still private' }],
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
  });

  it('refuses a wrong invite secret', async () => {
    const wrong = `${invite.slice(0, -4)}AAAA`;
    expect(await emitRaw(stranger, 'join', { room, invite: wrong })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('makes whoever opens the invite link a member: they join, read and send', async () => {
    const guest = await openDevice(server.url, deviceName('guest'), { name: 'guest' });
    await guest.engine.openRoom(room, { invite });
    await waitFor(
      'the guest to read the history',
      () => guest.engine.room(room).messages.length >= 1,
    );
    expect(guest.engine.room(room).denied).toBeNull();
    await guest.engine.send(room, 'thanks for the invite');
    await waitFor('the guest message to be sent', () => guest.engine.outboxCount === 0);
    expect((await server.store.pageAfter(room, 0, 10)).map((m) => m.body)).toContain(
      'thanks for the invite',
    );
    await guest.engine.destroy();
  });

  it('shows the engine why a room without an invite is closed', async () => {
    const outsider = await openDevice(server.url, deviceName('outsider'), {
      name: 'outsider',
      room,
    });
    await waitFor('the refusal', () => outsider.engine.room(room).denied !== null);
    expect(outsider.engine.room(room).messages).toEqual([]);
    await outsider.engine.destroy();
  });
});
