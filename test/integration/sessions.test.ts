import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { FerryServerOptions } from '../../src/server/ferry-server.ts';
import { SqliteAccountStore } from '../../src/server/store/sqlite-accounts.ts';
import { sessionSchema } from '../../src/shared/schemas.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { captureLog } from '../support/log-capture.ts';
import {
  emitRaw,
  newSignupKey,
  postSession,
  type RawSocket,
  rawClient,
  signUp,
} from '../support/raw-client.ts';
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
    ['a zero-width space', '\u200b'],
    ['a Hangul filler', '\u3164'],
    ['a braille blank', '\u2800'],
    ['spaces and a soft hyphen', ' \u00ad '],
    ['a right-to-left override', 'bob\u202egnp.exe'],
    ['a bidi isolate', 'ali\u2067ce'],
    ['a line separator', 'alice\u2028admin'],
    ['a paragraph separator', 'alice\u2029bob'],
    ['a zero-width space inside', 'al\u200bice'],
    ['a lone surrogate', 'al\ud800ice'],
  ])('refuses a display name with %s, saying why', async (_what, name) => {
    const answer = await postSession(server.url, { name });
    expect(answer).toMatchObject({
      status: 400,
      body: {
        ok: false,
        error: {
          code: 'invalid_payload',
          message: expect.stringMatching(/^name: .*(invisible|direction|line|visible|broken)/),
        },
      },
    });
  });

  it.each([
    ['composed (NFC)', 'Zoe\u0301', 'Zo\u00e9'],
    ['trimmed', '  Ada  ', 'Ada'],
    [
      'an emoji sequence with a joiner',
      '\u{1F469}\u200d\u{1F4BB} Ada',
      '\u{1F469}\u200d\u{1F4BB} Ada',
    ],
    [
      'a Persian name with a non-joiner',
      '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645',
      '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645',
    ],
    ['Hebrew', '\u05e9\u05e8\u05d4', '\u05e9\u05e8\u05d4'],
  ])('accepts a display name %s and stores it normalised', async (_what, name, stored) => {
    const session = await signUp(server.url, name);
    expect(session.name).toBe(stored);
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

describe('sign-up', () => {
  const cleanups = cleanupsAfterEach();

  async function server(options: Partial<FerryServerOptions> = {}): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: options,
    });
    cleanups.push(() => started.stop());
    return started;
  }

  async function handshakeWorks(url: string, token: string): Promise<boolean> {
    const socket = await rawClient(url, { token });
    const ack = await emitRaw(socket, 'ping', { sentAt: 1 });
    socket.close();
    return (ack as { ok?: unknown }).ok === true;
  }

  it('answers a body over 1 KB with 413 invalid_payload instead of dropping the connection', async () => {
    const { url } = await server();
    const answer = await postSession(url, { name: 'alice', padding: 'x'.repeat(5_000) });
    expect(answer).toEqual({
      status: 413,
      body: { ok: false, error: { code: 'invalid_payload', message: expect.any(String) } },
    });
  });

  it('gives concurrent sign-ups with one signupKey one user, and every token it hands out works', async () => {
    const { url } = await server();
    const signupKey = newSignupKey();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => postSession(url, { name: 'alice', signupKey })),
    );
    const sessions = answers.map((answer) => sessionSchema.parse(answer.body));
    expect(new Set(sessions.map((s) => s.userId)).size).toBe(1);
    expect(new Set(sessions.map((s) => s.token)).size).toBe(5);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    for (const session of sessions) expect(await handshakeWorks(url, session.token)).toBe(true);
  });

  it('answers a repeated signupKey with the user it made first, under the name stored then', async () => {
    const { url } = await server();
    const signupKey = newSignupKey();
    const first = await signUp(url, 'alice', signupKey);
    const again = await signUp(url, 'alicia', signupKey);
    expect(again).toMatchObject({ userId: first.userId, name: 'alice' });
    expect(again.token).not.toBe(first.token);
  });

  it('makes a different user for each signupKey, and for each sign-up without one', async () => {
    const { url } = await server();
    const users = await Promise.all([
      signUp(url, 'alice', newSignupKey()),
      signUp(url, 'alice', newSignupKey()),
      signUp(url, 'alice'),
      signUp(url, 'alice'),
    ]);
    expect(new Set(users.map((u) => u.userId)).size).toBe(4);
  });

  it('refuses a signupKey that is not 32 random bytes in base64url', async () => {
    const { url } = await server();
    for (const signupKey of ['short', 'A'.repeat(44), `${'A'.repeat(42)}+`, 42]) {
      const answer = await postSession(url, { name: 'alice', signupKey });
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_payload' } } });
    }
  });

  it('does not count a repeat of one signupKey against the per-address sign-up limit', async () => {
    const { url } = await server({ signupRate: { capacity: 2, refillPerMinute: 1 } });
    const signupKey = newSignupKey();
    const first = await signUp(url, 'alice', signupKey);
    for (let i = 0; i < 5; i++) {
      expect((await signUp(url, 'alice', signupKey)).userId).toBe(first.userId);
    }
    // The limit still holds for new users: one sign-up left, then 429.
    await signUp(url, 'bob');
    expect((await postSession(url, { name: 'carol' })).status).toBe(429);
  });

  /** `POST /api/session` as a page would send it: any content type, any Origin. */
  async function postFrom(
    url: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'mallory' }),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  it.each([
    ['text/plain', { 'Content-Type': 'text/plain' }],
    ['a form', { 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['no content type', {}],
  ])('refuses a sign-up sent as %s with 415, at no cost to the address', async (_name, headers) => {
    const { url } = await server({ signupRate: { capacity: 1, refillPerMinute: 1 } });
    for (let i = 0; i < 3; i++) {
      expect(await postFrom(url, headers)).toMatchObject({
        status: 415,
        body: { ok: false, error: { code: 'invalid_payload', message: expect.any(String) } },
      });
    }
    expect((await postSession(url, { name: 'alice' })).status).toBe(201);
  });

  it('refuses a sign-up from another site with 403, at no cost to the address', async () => {
    const { url } = await server({ signupRate: { capacity: 1, refillPerMinute: 1 } });
    for (const origin of ['https://evil.example', 'null', `${url}.evil.example`]) {
      const answer = await postFrom(url, { 'Content-Type': 'text/plain', Origin: origin });
      expect(answer).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      const json = await postFrom(url, { 'Content-Type': 'application/json', Origin: origin });
      expect(json.status).toBe(403);
    }
    expect((await postSession(url, { name: 'alice' })).status).toBe(201);
  });

  it('accepts a JSON sign-up from its own origin, an allowed origin, or no browser at all', async () => {
    const { url } = await server({ allowedOrigins: ['http://localhost:5173'] });
    const json = 'application/json; charset=utf-8';
    expect((await postFrom(url, { 'Content-Type': json, Origin: url })).status).toBe(201);
    const dev = { 'Content-Type': json, Origin: 'http://localhost:5173' };
    expect((await postFrom(url, dev)).status).toBe(201);
    expect((await postFrom(url, { 'Content-Type': json })).status).toBe(201);
  });

  it('stops answering to a signupKey once its user signed out', async () => {
    const { url } = await server();
    const signupKey = newSignupKey();
    const first = await signUp(url, 'alice', signupKey);
    const signOut = await fetch(`${url}/api/session`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${first.token}` },
    });
    expect(signOut.status).toBe(204);
    const after = await signUp(url, 'alice', signupKey);
    expect(after.userId).not.toBe(first.userId);
  });
});

describe('the handshake when the session store fails', () => {
  it('answers with code internal, so the client retries instead of giving up', async () => {
    const dir = tempDir();
    /** Accounts whose session lookup fails, as a locked or unreachable database would. */
    class FailingLookups extends SqliteAccountStore {
      override async sessionUser(): Promise<undefined> {
        throw new Error('database is locked');
      }
    }
    const { logger, lines: logged } = captureLog();
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      logger,
      serverOptions: { accounts: new FailingLookups(':memory:') },
    });
    try {
      const { token } = await signUp(server.url, 'alice');
      await expect(rawClient(server.url, { token })).rejects.toMatchObject({
        data: { code: 'internal', message: expect.any(String) },
      });
      expect(logged.join('\n')).toContain('database is locked');
    } finally {
      await server.stop();
      dir.dispose();
    }
  });
});
