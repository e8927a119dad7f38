import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { MAX_BATCH_MESSAGES } from '../../src/shared/limits.ts';
import { emitNoAck, emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('the server validates every inbound payload', () => {
  const dir = tempDir();
  let server: TestServer;
  let socket: RawSocket;
  beforeAll(async () => {
    server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    socket = await rawClient(server.url, { token: (await signUp(server.url, 'alice')).token });
  });
  afterAll(async () => {
    socket.close();
    await server.stop();
    dir.dispose();
  });

  it('refuses a handshake without a session token, with a machine-readable reason', async () => {
    await expect(rawClient(server.url, { name: 'alice' })).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });
  });

  it('answers a malformed send with invalid_payload', async () => {
    expect(await emitRaw(socket, 'send', { room: 'lobby', messages: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await emitRaw(socket, 'send', 42)).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });

  it('answers a send whose room is missing or not a string with invalid_payload', async () => {
    const messages = [{ id: newMessageId(), body: 'x' }];
    for (const payload of [{ messages }, { room: 42, messages }, { room: null, messages }]) {
      expect(await emitRaw(socket, 'send', payload)).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      });
    }
  });

  it('answers, and keeps serving, a payload whose values cannot even be turned into text', async () => {
    // An object whose toString is not a function throws when anything makes text of it.
    const poisoned = { constructor: { name: { toString: 1, valueOf: 1 } } };
    const messages = [{ id: newMessageId(), body: 'x' }];
    const refused = { ok: false, error: { code: 'invalid_payload' } };
    const cases = [
      ['send', { room: poisoned, messages }, refused],
      [
        'send',
        { room: 'after-poison', messages: [{ id: poisoned, body: poisoned }] },
        { ok: true, results: [{ status: 'rejected', code: 'invalid_message' }] },
      ],
      ['join', { room: poisoned }, refused],
      ['history', { room: poisoned, after: 0, limit: 1 }, refused],
    ] as const;
    for (const [event, payload, answer] of cases) {
      expect(await emitRaw(socket, event, payload), event).toMatchObject(answer);
    }
    expect(await emitRaw(socket, 'send', { room: 'after-poison', messages })).toMatchObject({
      ok: true,
      results: [{ status: 'accepted' }],
    });
  });

  it('rejects a malformed edit or delete alone, with the reason, and stores the rest', async () => {
    const room = 'malformed-ops';
    const [target] = [{ id: newMessageId(), body: 'target' }];
    await emitRaw(socket, 'send', { room, messages: [target] });
    const ack = await emitRaw(socket, 'send', {
      room,
      messages: [
        { id: newMessageId(), kind: 'edit', target: target.id, body: 'not newBody' },
        { id: newMessageId(), kind: 'edit', target: 'not-a-uuid', newBody: 'x' },
        { id: newMessageId(), kind: 'edit', target: target.id, newBody: ' ' },
        { id: newMessageId(), kind: 'edit', target: target.id, newBody: 'x'.repeat(4_001) },
        { id: newMessageId(), kind: 'rename', target: target.id },
        { id: newMessageId(), kind: 'edit', target: target.id, newBody: 'fine' },
      ],
    });
    expect(ack).toMatchObject({
      ok: true,
      results: [
        { status: 'rejected', code: 'invalid_message', reason: expect.stringContaining('newBody') },
        { status: 'rejected', code: 'invalid_message', reason: expect.stringContaining('target') },
        { status: 'rejected', code: 'body_empty' },
        { status: 'rejected', code: 'body_too_long' },
        { status: 'rejected', code: 'invalid_message' },
        { status: 'accepted', seq: 2 },
      ],
    });
    expect((await server.store.pageAfter(room, 0, 10)).map((entry) => entry.body)).toEqual([
      'fine',
      'fine',
    ]);
  });

  it('answers a join the same way: a wrong shape is invalid_payload, a bad room id invalid_room', async () => {
    expect(await emitRaw(socket, 'join', {})).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await emitRaw(socket, 'join', { room: '../etc' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_room' },
    });
  });

  it('answers a bad room id with invalid_room', async () => {
    const ack = await emitRaw(socket, 'send', {
      room: '../etc',
      messages: [{ id: newMessageId(), body: 'x' }],
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_room' } });
  });

  it('answers an oversized batch with batch_too_large and stores none of it', async () => {
    const messages = Array.from({ length: MAX_BATCH_MESSAGES + 1 }, (_, i) => ({
      id: newMessageId(),
      body: `${i}`,
    }));
    const ack = await emitRaw(socket, 'send', { room: 'big', messages });
    expect(ack).toMatchObject({ ok: false, error: { code: 'batch_too_large' } });
    expect(await server.store.count('big')).toBe(0);
  });

  it('rejects a bad message alone and stores the rest of its batch in order', async () => {
    const good = [newMessageId(), newMessageId()];
    const ack = await emitRaw(socket, 'send', {
      room: 'mixed',
      messages: [
        { id: good[0], body: 'first' },
        { id: 'not-a-uuid', body: 'x' },
        { id: newMessageId(), body: '   ' },
        { id: good[1], body: 'last' },
      ],
    });
    expect(ack).toMatchObject({
      ok: true,
      results: [
        { id: good[0], status: 'accepted', seq: 1 },
        { id: 'not-a-uuid', status: 'rejected', code: 'invalid_message' },
        { status: 'rejected', code: 'body_empty' },
        { id: good[1], status: 'accepted', seq: 2 },
      ],
    });
  });

  it('refuses a body with a NUL character, which not every store can keep, and stores the rest', async () => {
    const [nul, after] = [newMessageId(), newMessageId()];
    const ack = await emitRaw(socket, 'send', {
      room: 'nul',
      messages: [
        { id: nul, body: 'a\u0000b' },
        { id: after, body: 'after' },
      ],
    });
    expect(ack).toMatchObject({
      ok: true,
      results: [
        {
          id: nul,
          status: 'rejected',
          code: 'invalid_message',
          reason: expect.stringMatching(/NUL/),
        },
        { id: after, status: 'accepted', seq: 1 },
      ],
    });
  });

  it('takes the author from the handshake, never from the payload', async () => {
    const id = newMessageId();
    await emitRaw(socket, 'send', {
      room: 'authors',
      messages: [{ id, body: 'hi', author: 'mallory' }],
      author: 'mallory',
    });
    const [stored] = await server.store.pageAfter('authors', 0, 1);
    expect(stored).toMatchObject({ id, author: 'alice' });
  });

  it('survives events without an ack callback and keeps serving', async () => {
    emitNoAck(socket, 'send', {
      room: 'lobby',
      messages: [{ id: newMessageId(), body: 'no ack' }],
    });
    emitNoAck(socket, 'history', 'garbage');
    emitNoAck(socket, 'unknown-event');
    expect(await emitRaw(socket, 'ping', { sentAt: 1 })).toMatchObject({
      ok: true,
      serverTime: expect.any(Number),
    });
    expect(await server.store.count('lobby')).toBe(1);
  });

  it('answers a malformed history request with invalid_payload', async () => {
    expect(await emitRaw(socket, 'history', { room: 'lobby', after: -1, limit: 10 })).toMatchObject(
      {
        ok: false,
        error: { code: 'invalid_payload' },
      },
    );
    expect(
      await emitRaw(socket, 'history', { room: 'lobby', after: 0, limit: 100_000 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });
});
