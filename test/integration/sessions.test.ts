import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

describe('sessions', () => {
  const dir = tempDir();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
  });
  afterAll(async () => {
    await server.stop();
    dir.dispose();
  });

  it('issues a random token of at least 128 bits and stores only its hash', async () => {
    const session = await signUp(server.url, 'alice');
    expect(Buffer.from(session.token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    const file = new Database(`${dir.path}/ferry.db`, { readonly: true });
    const rows = file.prepare('SELECT token_hash FROM sessions').all() as { token_hash: string }[];
    file.close();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((row) => row.token_hash.includes(session.token))).toBe(false);
    expect(rows.some((row) => row.token_hash === session.token)).toBe(false);
  });

  it('refuses a sign-up with a bad name, with a clear error', async () => {
    const response = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: '\u0000evil' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });

  it.each([
    ['missing', {}],
    ['forged', { token: 'A'.repeat(43) }],
    ['not even a token', { token: 42 }],
  ])('refuses a %s token at the handshake', async (_name, auth) => {
    await expect(rawClient(server.url, auth)).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });
  });

  it('refuses a revoked token, and disconnects the live sockets of the revoked session', async () => {
    const session = await signUp(server.url, 'bob');
    const live: RawSocket = await rawClient(server.url, { token: session.token });
    expect(await emitRaw(live, 'ping', { sentAt: 1 })).toMatchObject({ ok: true });
    const disconnected = new Promise<string>((resolve) => live.once('disconnect', resolve));

    const response = await fetch(`${server.url}/api/session`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${session.token}` },
    });
    expect(response.status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    await expect(rawClient(server.url, { token: session.token })).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });
  });

  it('sends as the session user: the payload cannot choose the author', async () => {
    const session = await signUp(server.url, 'carol');
    const socket = await rawClient(server.url, { token: session.token });
    const id = newMessageId();
    await emitRaw(socket, 'send', {
      room: 'authors',
      messages: [{ id, body: 'hi', author: 'mallory', authorId: 'x' }],
    });
    socket.close();
    const [stored] = await server.store.pageAfter('authors', 0, 1);
    expect(stored).toMatchObject({ id, author: 'carol', authorId: session.userId });
  });

  it('rejects an id already used by another author, revealing nothing of the original', async () => {
    const victim = await signUp(server.url, 'victim');
    const thief = await signUp(server.url, 'thief');
    const id = newMessageId();
    const victimSocket = await rawClient(server.url, { token: victim.token });
    await emitRaw(victimSocket, 'send', {
      room: 'hijack',
      messages: [{ id, body: 'secret plans' }],
    });
    victimSocket.close();

    const thiefSocket = await rawClient(server.url, { token: thief.token });
    const ack = await emitRaw(thiefSocket, 'send', {
      room: 'hijack',
      messages: [{ id, body: 'mine now' }],
    });
    thiefSocket.close();
    expect(ack).toEqual({
      ok: true,
      results: [{ id, status: 'rejected', code: 'id_conflict', reason: 'this id is taken' }],
    });
    expect(JSON.stringify(ack)).not.toContain('secret');
    expect(await server.store.count('hijack')).toBe(1);
  });
});
