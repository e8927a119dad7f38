import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { IN_FLIGHT_RETRY_AFTER_MS } from '../../src/server/messages-api.ts';
import type { AccountStore } from '../../src/server/store/account-store.ts';
import { STORE_RETRY_AFTER_MS } from '../../src/server/store/store-errors.ts';
import {
  MAX_BATCH_MESSAGES,
  MAX_PACKET_BYTES,
  MIN_RETRY_AFTER_MS,
} from '../../src/shared/limits.ts';
import type { MessagesEvent, Session } from '../../src/shared/protocol.ts';
import { sendAckSchema } from '../../src/shared/schemas.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { captureLog } from '../support/log-capture.ts';
import {
  emitRaw,
  type MessagesAnswer,
  newSignupKey,
  postMessages,
  type RawSendAck,
  type RawSocket,
  rawClient,
  sendBatch,
  signUp,
} from '../support/raw-client.ts';
import { openPost } from '../support/raw-http.ts';
import {
  beforeAccounts,
  startTestServer,
  type TestServer,
  tempDir,
  withAppend,
} from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

type Msg = { id: string; body: string };

/** Messages with fresh ids, bodies `${label} 0`, `${label} 1`, ... */
function messages(label: string, count: number): Msg[] {
  return Array.from({ length: count }, (_, i) => ({ id: newMessageId(), body: `${label} ${i}` }));
}

let rooms = 0;
/** A room no other test writes to, so that what a test finds stored is its own. */
const freshRoom = () => `http-send-${++rooms}`;

/** The answer, read as a send ack (every answer of the endpoint must parse as one). */
function ackOf(answer: MessagesAnswer): RawSendAck {
  expect(sendAckSchema.safeParse(answer.body).success).toBe(true);
  return answer.body as RawSendAck;
}

/** Checks a refusal of the whole batch: its status, its code, the ack shape, no caching. */
function expectRefusal(answer: MessagesAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(ackOf(answer)).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
  expect(answer.headers.get('Cache-Control')).toBe('no-store');
}

/** The next `messages` event the socket gets for `room`; fails after 5 s without one. */
function nextMessages(socket: RawSocket, room: string): Promise<MessagesEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no messages event for ${room}`)), 5_000);
    const listener = (event: MessagesEvent) => {
      if (event.room !== room) return;
      clearTimeout(timer);
      socket.off('messages', listener);
      resolve(event);
    };
    socket.on('messages', listener);
  });
}

/** The error a locked SQLite database throws (see isStoreBusy). */
const busyError = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('POST /api/messages, the send event over HTTP', () => {
  const dir = tempDir();
  const cleanups = cleanupsAfterEach();
  let server: TestServer;
  let alice: Session;
  let bob: Session;
  beforeAll(async () => {
    server = await startTestServer({ dbPath: `${dir.path}/ferry.db` });
    alice = await signUp(server.url, 'alice');
    bob = await signUp(server.url, 'bob');
  });
  afterAll(async () => {
    await server.stop();
    dir.dispose();
  });

  async function socketIn(room: string, token: string): Promise<RawSocket> {
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    expect(await emitRaw(socket, 'join', { room })).toMatchObject({ ok: true });
    return socket;
  }

  it('accepts a batch and answers a seq and ts per message, in batch order', async () => {
    const room = freshRoom();
    const batch = messages('hello', 3);
    const answer = await postMessages(server.url, alice.token, { room, messages: batch });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Cache-Control')).toBe('no-store');
    const stored = await server.store.pageAfter(room, 0, 10);
    expect(stored.map((m) => m.id)).toEqual(batch.map((m) => m.id));
    expect(ackOf(answer)).toEqual({
      ok: true,
      results: stored.map((m) => ({ id: m.id, status: 'accepted', seq: m.seq, ts: m.ts })),
    });
  });

  it('answers a repeated batch as duplicates with the same seq and ts, and stores it once', async () => {
    const room = freshRoom();
    const batch = messages('once', 3);
    const first = await postMessages(server.url, alice.token, { room, messages: batch });
    const again = await postMessages(server.url, alice.token, { room, messages: batch });
    expect(again.status).toBe(200);
    expect(ackOf(again).results).toEqual(
      ackOf(first).results?.map((result) => ({ ...result, status: 'duplicate' })),
    );
    expect(await server.store.count(room)).toBe(3);
  });

  it('rejects a bad message alone and stores the rest of its batch in order', async () => {
    const room = freshRoom();
    const [first, last] = messages('good', 2) as [Msg, Msg];
    const answer = await postMessages(server.url, alice.token, {
      room,
      messages: [first, { id: 'not-a-uuid', body: 'x' }, { id: newMessageId(), body: ' ' }, last],
    });
    expect(answer.status).toBe(200);
    expect(ackOf(answer)).toMatchObject({
      ok: true,
      results: [
        { id: first.id, status: 'accepted', seq: 1 },
        { id: 'not-a-uuid', status: 'rejected', code: 'invalid_message' },
        { status: 'rejected', code: 'body_empty' },
        { id: last.id, status: 'accepted', seq: 2 },
      ],
    });
    const stored = await server.store.pageAfter(room, 0, 10);
    expect(stored.map((m) => m.body)).toEqual([first.body, last.body]);
  });

  it('applies edits and deletes over HTTP as over a socket, with the same refusals', async () => {
    const room = freshRoom();
    const [mine, hers] = messages('op', 2) as [Msg, Msg];
    await postMessages(server.url, alice.token, { room, messages: [mine] });
    await postMessages(server.url, bob.token, { room, messages: [hers] });
    const answer = await postMessages(server.url, alice.token, {
      room,
      messages: [
        { id: newMessageId(), kind: 'edit', target: mine.id, newBody: 'edited over HTTP' },
        { id: newMessageId(), kind: 'delete', target: hers.id },
        { id: newMessageId(), kind: 'edit', target: newMessageId(), newBody: 'nothing there' },
      ],
    });
    expect(ackOf(answer)).toMatchObject({
      ok: true,
      results: [
        { status: 'accepted', seq: 3 },
        { status: 'rejected', code: 'not_author' },
        { status: 'rejected', code: 'not_found' },
      ],
    });
    const stored = await server.store.pageAfter(room, 0, 10);
    expect(stored.map((entry) => entry.body)).toEqual([
      'edited over HTTP',
      hers.body,
      'edited over HTTP',
    ]);
  });

  it('takes the author from the session, never from the payload', async () => {
    const room = freshRoom();
    const id = newMessageId();
    await postMessages(server.url, alice.token, {
      room,
      messages: [{ id, body: 'hi', author: 'mallory' }],
      author: 'mallory',
    });
    const [stored] = await server.store.pageAfter(room, 0, 1);
    expect(stored).toMatchObject({ id, author: 'alice', authorId: alice.userId });
  });

  it.each([
    ['no token', async () => null],
    ['a malformed token', async () => 'not a token'],
    ['an unknown token', async () => newSignupKey()],
    [
      'a revoked token',
      async () => {
        const { token } = await signUp(server.url, 'carol');
        await server.server.revokeSession(token);
        return token;
      },
    ],
  ])('refuses a batch with %s with 401 unauthorized and stores nothing', async (_what, token) => {
    const room = freshRoom();
    const answer = await postMessages(server.url, await token(), {
      room,
      messages: messages('who am I', 1),
    });
    expectRefusal(answer, 401, 'unauthorized');
    expect(answer.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(await server.store.count(room)).toBe(0);
  });

  it('answers a body over the packet limit with 413 instead of dropping the connection', async () => {
    const room = freshRoom();
    const tooBig = { room, messages: [{ id: newMessageId(), body: 'x'.repeat(MAX_PACKET_BYTES) }] };
    const answer = await postMessages(server.url, alice.token, tooBig);
    expectRefusal(answer, 413, 'invalid_payload');
    expect(await server.store.count(room)).toBe(0);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])(
    'refuses a body sent as %s with 415 and stores nothing',
    async (contentType) => {
      const room = freshRoom();
      const batch = { room, messages: messages('typed', 1) };
      const answer = await postMessages(server.url, alice.token, batch, {
        'Content-Type': contentType,
      });
      expectRefusal(answer, 415, 'invalid_payload');
      expect(await server.store.count(room)).toBe(0);
    },
  );

  it('answers a body that is not JSON with 400 invalid_payload', async () => {
    const answer = await postMessages(server.url, alice.token, '{"room": "lobby", "messages": [');
    expectRefusal(answer, 400, 'invalid_payload');
  });

  it('frees the slot of a body refused before the send handler, so more in a row than slots are each answered', async () => {
    const { token } = await signUp(server.url, 'dora');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await postMessages(server.url, token, '[')).status);
    expect(statuses).toEqual([400, 400, 400]);
  });

  it.each([
    ['invalid_payload', { room: 'lobby', messages: 'nope' }],
    ['invalid_payload', { messages: messages('no room', 1) }],
    ['invalid_room', { room: '../etc', messages: messages('bad room', 1) }],
    ['batch_too_large', { room: 'lobby', messages: messages('big', MAX_BATCH_MESSAGES + 1) }],
  ])(
    'refuses a batch the send event refuses with %s with 400 and the same code',
    async (code, batch) => {
      const answer = await postMessages(server.url, alice.token, batch);
      expectRefusal(answer, 400, code);
    },
  );

  it.each(['GET', 'PUT', 'DELETE'])('answers %s with 405 and Allow: POST', async (method) => {
    const response = await fetch(`${server.url}/api/messages`, {
      method,
      headers: { Authorization: `Bearer ${alice.token}` },
    });
    const answer = {
      status: response.status,
      headers: response.headers,
      body: await response.json(),
    };
    expectRefusal(answer, 405, 'invalid_payload');
    expect(response.headers.get('Allow')).toBe('POST');
  });

  it('refuses a batch to a private room the user is not a member of with 403 forbidden', async () => {
    const owner = await rawClient(server.url, { token: alice.token });
    cleanups.push(() => void owner.close());
    const { room } = (await emitRaw(owner, 'createRoom', {})) as { room: string };
    const answer = await postMessages(server.url, bob.token, {
      room,
      messages: messages('let me in', 1),
    });
    expectRefusal(answer, 403, 'forbidden');
    expect(await server.store.count(room)).toBe(0);
  });

  it("stores a member's batch to a private room", async () => {
    const owner = await rawClient(server.url, { token: alice.token });
    cleanups.push(() => void owner.close());
    const { room } = (await emitRaw(owner, 'createRoom', {})) as { room: string };
    const answer = await postMessages(server.url, alice.token, {
      room,
      messages: messages('members only', 1),
    });
    expect(answer.status).toBe(200);
    expect(await server.store.count(room)).toBe(1);
  });

  it('delivers accepted messages live to a socket joined to the room, as a messages event', async () => {
    const room = freshRoom();
    const listener = await socketIn(room, bob.token);
    const live = nextMessages(listener, room);
    await postMessages(server.url, alice.token, { room, messages: messages('live', 2) });
    expect(await live).toEqual({ room, messages: await server.store.pageAfter(room, 0, 10) });
  });

  it("delivers them to the sender's own sockets too, since none of them sent the batch", async () => {
    const room = freshRoom();
    const ownTab = await socketIn(room, alice.token);
    const live = nextMessages(ownTab, room);
    await postMessages(server.url, alice.token, { room, messages: messages('mine', 1) });
    expect(await live).toEqual({ room, messages: await server.store.pageAfter(room, 0, 10) });
  });

  it('answers a message first posted over HTTP and then sent over a socket as a duplicate', async () => {
    const room = freshRoom();
    const batch = messages('both ways', 2);
    const posted = await postMessages(server.url, alice.token, { room, messages: batch });
    const socket = await socketIn(room, alice.token);
    const sent = await sendBatch(socket, room, batch);
    expect(sent.results).toEqual(
      ackOf(posted).results?.map((result) => ({ ...result, status: 'duplicate' })),
    );
    expect(await server.store.count(room)).toBe(2);
  });
});

describe('POST /api/messages under the rate limit', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose users may send 3 messages, then one every 10 s. */
  async function limitedServer(): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { messageRate: { capacity: 3, refillPerMinute: 6 } },
    });
    cleanups.push(() => server.stop());
    return server;
  }

  it('answers a batch cut by the rate limit with 200, rate_limited and a wait for the messages past the cut', async () => {
    const server = await limitedServer();
    const { token } = await signUp(server.url, 'alice');
    const answer = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('burst', 5),
    });
    expect(answer.status).toBe(200);
    const results = ackOf(answer).results ?? [];
    expect(results.map((r) => r.code ?? r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'rate_limited',
      'rate_limited',
    ]);
    for (const held of results.slice(3)) {
      expect(held.retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    }
    expect(await server.store.count('lobby')).toBe(3);
  });

  it('refuses a batch the rate limit holds whole with 429, a Retry-After in whole seconds and retryAfterMs', async () => {
    const server = await limitedServer();
    const { token } = await signUp(server.url, 'alice');
    await postMessages(server.url, token, { room: 'lobby', messages: messages('burst', 3) });
    const answer = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('held', 2),
    });
    expectRefusal(answer, 429, 'rate_limited');
    const retryAfterMs = ackOf(answer).error?.retryAfterMs ?? 0;
    expect(retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    expect(answer.headers.get('Retry-After')).toBe(String(Math.ceil(retryAfterMs / 1_000)));
    expect(await server.store.count('lobby')).toBe(3);
  });

  it("draws on the same budget as the user's sockets", async () => {
    const server = await limitedServer();
    const { token } = await signUp(server.url, 'alice');
    const socket = await rawClient(server.url, { token });
    cleanups.push(() => void socket.close());
    const overSocket = await sendBatch(socket, 'lobby', messages('socket', 3));
    expect(overSocket.results?.map((r) => r.status)).toEqual(Array(3).fill('accepted'));

    const overHttp = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('http', 1),
    });
    expectRefusal(overHttp, 429, 'rate_limited');
  });
});

describe('POST /api/messages when the server is in trouble', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose store and account lookups fail on demand, and whose log is kept. */
  async function troubledServer() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const trouble: { append: Error | null; lookup: Error | null } = { append: null, lookup: null };
    const { logger, lines: log } = captureLog();
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      logger,
      wrapStore: (store) =>
        withAppend(store, (...args) =>
          trouble.append ? Promise.reject(trouble.append) : store.appendBatch(...args),
        ),
      wrapAccounts: (accounts: AccountStore) =>
        beforeAccounts(accounts, 'sessionUser', async () => {
          if (trouble.lookup) throw trouble.lookup;
        }),
    });
    cleanups.push(() => server.stop());
    const { token } = await signUp(server.url, 'alice');
    return { server, token, trouble, log };
  }

  it('answers a batch the store could not write with 503 internal, Retry-After and retryAfterMs', async () => {
    const { server, token, trouble } = await troubledServer();
    trouble.append = busyError();
    const answer = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('locked out', 2),
    });
    expectRefusal(answer, 503, 'internal');
    expect(ackOf(answer).error?.retryAfterMs).toBe(STORE_RETRY_AFTER_MS);
    expect(answer.headers.get('Retry-After')).toBe(String(STORE_RETRY_AFTER_MS / 1_000));
    expect(await server.store.count('lobby')).toBe(0);
  });

  it('answers a session lookup on a busy store with 503 internal, Retry-After and retryAfterMs', async () => {
    const { server, token, trouble } = await troubledServer();
    trouble.lookup = busyError();
    const answer = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('busy', 1),
    });
    expectRefusal(answer, 503, 'internal');
    expect(ackOf(answer).error?.retryAfterMs).toBe(STORE_RETRY_AFTER_MS);
    expect(answer.headers.get('Retry-After')).toBe(String(STORE_RETRY_AFTER_MS / 1_000));
    expect(await server.store.count('lobby')).toBe(0);
  });

  it('answers a session lookup that fails otherwise with 500 internal', async () => {
    const { server, token, trouble } = await troubledServer();
    trouble.lookup = new Error('disk I/O error');
    const answer = await postMessages(server.url, token, {
      room: 'lobby',
      messages: messages('broken', 1),
    });
    expectRefusal(answer, 500, 'internal');
    expect(answer.headers.get('Retry-After')).toBeNull();
  });

  it('logs a failed request without its token', async () => {
    const { server, token, trouble, log } = await troubledServer();
    trouble.lookup = new Error('disk I/O error');
    await postMessages(server.url, token, { room: 'lobby', messages: messages('secret', 1) });
    expect(log.some((line) => line.includes('disk I/O error'))).toBe(true);
    expect(log.some((line) => line.includes(token))).toBe(false);
  });
});

describe('POST /api/messages with batches in flight', () => {
  const cleanups = cleanupsAfterEach();

  /**
   * A server at which every batch waits in the store until `letThrough()`: the test holds
   * requests in flight, and `waiting()` says how many have got that far.
   */
  async function holdingServer() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    let letThrough = () => {};
    const gate = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    let waiting = 0;
    const { logger, lines: log } = captureLog();
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      logger,
      wrapStore: (store) =>
        withAppend(store, async (...args) => {
          waiting += 1;
          await gate;
          return store.appendBatch(...args);
        }),
    });
    const held: Promise<MessagesAnswer>[] = [];
    // Undone in reverse: the held batches are answered before the server stops.
    cleanups.push(
      () => server.stop(),
      async () => {
        letThrough();
        await Promise.allSettled(held);
      },
    );
    const alice = await signUp(server.url, 'alice');

    /** Posts two batches of alice's and resolves once both are held in the store. */
    async function twoInFlight(): Promise<Promise<MessagesAnswer>[]> {
      const posts = [0, 1].map((i) =>
        postMessages(server.url, alice.token, { room: freshRoom(), messages: messages(`${i}`, 1) }),
      );
      held.push(...posts);
      await waitFor('two batches in flight', () => waiting === 2);
      return posts;
    }
    return { server, alice, letThrough, twoInFlight, waiting: () => waiting, log };
  }

  it('refuses a third batch while two are in flight with 429, and accepts the next once they are answered', async () => {
    const { server, alice, letThrough, twoInFlight } = await holdingServer();
    const held = await twoInFlight();
    const room = freshRoom();

    const third = await postMessages(server.url, alice.token, { room, messages: messages('3', 1) });
    expectRefusal(third, 429, 'rate_limited');
    expect(ackOf(third).error?.retryAfterMs).toBe(IN_FLIGHT_RETRY_AFTER_MS);
    expect(third.headers.get('Retry-After')).toBe(String(IN_FLIGHT_RETRY_AFTER_MS / 1_000));

    letThrough();
    expect((await Promise.all(held)).map((answer) => answer.status)).toEqual([200, 200]);
    const next = await postMessages(server.url, alice.token, { room, messages: messages('4', 1) });
    expect(next.status).toBe(200);
    expect(await server.store.count(room)).toBe(1);
  });

  it('answers a post past the cap without waiting for its body', async () => {
    const { server, alice, twoInFlight } = await holdingServer();
    await twoInFlight();
    const bodyNeverSent = openPost(server.url, alice.token, { contentLength: 1_000 });
    cleanups.push(bodyNeverSent.abort);
    expectRefusal(await bodyNeverSent.answer, 429, 'rate_limited');
  });

  it("caps each user on their own: another user's batch goes through meanwhile", async () => {
    const { server, letThrough, twoInFlight, waiting } = await holdingServer();
    await twoInFlight();
    const bob = await signUp(server.url, 'bob');
    const bobs = postMessages(server.url, bob.token, {
      room: freshRoom(),
      messages: messages('bob', 1),
    });
    await waitFor("bob's batch to reach the store", () => waiting() === 3);
    letThrough();
    expect((await bobs).status).toBe(200);
  });

  /** Starts two posts that send part of their body, and waits until both hold a slot. */
  async function twoUploads(url: string, token: string) {
    const uploads = [0, 1].map(() => openPost(url, token, { contentLength: 1_000 }));
    for (const upload of uploads) {
      cleanups.push(upload.abort);
      upload.write('{"room": "lobby", ');
    }
    await waitFor('both uploads to hold a slot', async () => (await probe(url, token)) === 429);
    return uploads;
  }

  /** Posts an empty envelope: answered 400 when it gets a slot, 429 when it gets none. */
  async function probe(url: string, token: string): Promise<number> {
    return (await postMessages(url, token, '{}')).status;
  }

  it('frees the slots of posts whose connections drop mid-upload', async () => {
    const { server, alice } = await holdingServer();
    const uploads = await twoUploads(server.url, alice.token);
    for (const upload of uploads) upload.abort();
    await waitFor(
      'their slots to be freed',
      async () => (await probe(server.url, alice.token)) === 400,
    );
  });

  it('does not log a post whose connection drops mid-upload as a failure', async () => {
    const { server, alice, log } = await holdingServer();
    const uploads = await twoUploads(server.url, alice.token);
    for (const upload of uploads) upload.abort();
    await waitFor(
      'their slots to be freed',
      async () => (await probe(server.url, alice.token)) === 400,
    );
    expect(log.filter((line) => line.includes('/api/messages'))).toEqual([]);
  });
});

describe('POST /api/messages with refused tokens', () => {
  const cleanups = cleanupsAfterEach();
  /** The refused tokens an address may send before it must wait (a minute for the next). */
  const BUDGET = 3;

  /** A server with a small budget of refused tokens per address, counting session lookups. */
  async function guardedServer() {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const counted = { lookups: 0 };
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: {
        floodLimits: { refusedTokenRate: { capacity: BUDGET, refillPerMinute: 1 } },
      },
      wrapAccounts: (accounts: AccountStore) =>
        beforeAccounts(accounts, 'sessionUser', async () => {
          counted.lookups += 1;
        }),
    });
    cleanups.push(() => server.stop());
    const alice = await signUp(server.url, 'alice');
    return { server, alice, counted };
  }

  const batch = () => ({ room: 'lobby', messages: messages('knock knock', 1) });

  /** Spends the address's whole budget on unknown tokens, each refused 401. */
  async function spendBudget(url: string): Promise<void> {
    for (let i = 0; i < BUDGET; i++) {
      expect((await postMessages(url, newSignupKey(), batch())).status).toBe(401);
    }
  }

  it("answers refused tokens past the address's budget with 429 and a Retry-After, without looking them up", async () => {
    const { server, counted } = await guardedServer();
    await spendBudget(server.url);
    expect(counted.lookups).toBe(BUDGET);

    const answer = await postMessages(server.url, newSignupKey(), batch());
    expectRefusal(answer, 429, 'rate_limited');
    const retryAfterMs = ackOf(answer).error?.retryAfterMs ?? 0;
    expect(retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
    expect(answer.headers.get('Retry-After')).toBe(String(Math.ceil(retryAfterMs / 1_000)));
    expect(counted.lookups).toBe(BUDGET);
  });

  it('counts only refusals: batches posted with a valid token spend none of the budget', async () => {
    const { server, alice } = await guardedServer();
    for (let i = 0; i < BUDGET * 2; i++) {
      expect((await postMessages(server.url, alice.token, batch())).status).toBe(200);
    }
    await spendBudget(server.url);
  });

  it('makes a valid token from the address wait too while its budget is spent, since only a lookup tells it apart', async () => {
    const { server, alice, counted } = await guardedServer();
    await spendBudget(server.url);
    const answer = await postMessages(server.url, alice.token, batch());
    expectRefusal(answer, 429, 'rate_limited');
    expect(counted.lookups).toBe(BUDGET);
  });

  it("leaves other addresses alone: a valid token is served while another address's budget is spent", async () => {
    const { server, alice } = await guardedServer();
    for (let i = 0; i <= BUDGET; i++) {
      const knock = openPost(server.url, newSignupKey(), { localAddress: '127.0.0.2' });
      knock.end(JSON.stringify(batch()));
      expect((await knock.answer).status).toBe(i < BUDGET ? 401 : 429);
    }
    expect((await postMessages(server.url, alice.token, batch())).status).toBe(200);
  });
});
