// Read cursors (`receipt`, `receipts`), room names and `leave`, on a real server with raw
// socket.io clients written from docs/protocol.md.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { FerryServerOptions } from '../../src/server/ferry-server.ts';
import { MAX_ROOM_NAME_CHARS, MIN_RETRY_AFTER_MS } from '../../src/shared/limits.ts';
import {
  DEFAULT_PRIVATE_ROOM_NAME,
  type ReceiptsEvent,
  type Session,
} from '../../src/shared/protocol.ts';
import { joinAckSchema, receiptAckSchema, receiptsEventSchema } from '../../src/shared/schemas.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { emitRaw, type RawSocket, rawClient, signUp } from '../support/raw-client.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

describe('read cursors, room names and leave', () => {
  const cleanups = cleanupsAfterEach();

  async function serverWith(serverOptions: Partial<FerryServerOptions> = {}): Promise<TestServer> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db`, serverOptions });
    cleanups.push(() => server.stop());
    return server;
  }

  async function socketOf(server: TestServer, session: Session): Promise<RawSocket> {
    const socket = await rawClient(server.url, { token: session.token });
    cleanups.push(() => void socket.close());
    return socket;
  }

  /** Every `receipts` event the socket hears, each checked against the schema. */
  function receiptsHeard(socket: RawSocket): ReceiptsEvent[] {
    const heard: ReceiptsEvent[] = [];
    socket.on('receipts', (event) => heard.push(receiptsEventSchema.parse(event)));
    return heard;
  }

  /** Sends `n` messages to `room` from `socket`. */
  async function send(socket: RawSocket, room: string, n: number): Promise<void> {
    const messages = Array.from({ length: n }, (_, i) => ({ id: newMessageId(), body: `m${i}` }));
    expect(await emitRaw(socket, 'send', { room, messages })).toMatchObject({ ok: true });
  }

  it("answers a receipt with the stored cursors and tells every socket of the room, the user's other devices included", async () => {
    const server = await serverWith();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const [aliceSocket, alicePhone, bobSocket] = await Promise.all([
      socketOf(server, alice),
      socketOf(server, alice),
      socketOf(server, bob),
    ]);
    for (const socket of [aliceSocket, alicePhone, bobSocket]) {
      await emitRaw(socket, 'join', { room: 'lobby' });
    }
    await send(aliceSocket, 'lobby', 5);
    const bobHeard = receiptsHeard(bobSocket);
    const phoneHeard = receiptsHeard(alicePhone);

    const ack = await emitRaw(bobSocket, 'receipt', { room: 'lobby', delivered: 5, read: 3 });
    expect(receiptAckSchema.parse(ack)).toEqual({ ok: true, room: 'lobby', delivered: 5, read: 3 });
    const expected = { room: 'lobby', userId: bob.userId, delivered: 5, read: 3 };
    await waitFor('the receipt to reach the room', () => phoneHeard.length === 1);
    expect(phoneHeard).toEqual([expected]);
    await waitFor("the receipt to reach bob's own socket", () => bobHeard.length === 1);
    expect(bobHeard).toEqual([expected]);
  });

  it('tells the room nothing when a receipt moves no cursor, and answers it with the higher stored cursors', async () => {
    const server = await serverWith();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const [aliceSocket, bobSocket] = await Promise.all([
      socketOf(server, alice),
      socketOf(server, bob),
    ]);
    await emitRaw(aliceSocket, 'join', { room: 'lobby' });
    await emitRaw(bobSocket, 'join', { room: 'lobby' });
    await send(aliceSocket, 'lobby', 6);
    const heard = receiptsHeard(aliceSocket);

    await emitRaw(bobSocket, 'receipt', { room: 'lobby', delivered: 4, read: 4 });
    // A repeat, and a stale device's lower cursors: answered with what is stored.
    for (const stale of [
      { delivered: 4, read: 4 },
      { delivered: 2, read: 1 },
    ]) {
      expect(await emitRaw(bobSocket, 'receipt', { room: 'lobby', ...stale })).toEqual({
        ok: true,
        room: 'lobby',
        delivered: 4,
        read: 4,
      });
    }
    // Past the room's newest seq: lowered to it.
    expect(await emitRaw(bobSocket, 'receipt', { room: 'lobby', delivered: 99, read: 99 })).toEqual(
      { ok: true, room: 'lobby', delivered: 6, read: 6 },
    );
    // Events from one process reach a socket in order: the last one arrived after any other.
    await waitFor('the last receipt to arrive', () => heard.length >= 2);
    expect(heard.map(({ delivered, read }) => [delivered, read])).toEqual([
      [4, 4],
      [6, 6],
    ]);
  });

  it('refuses a receipt for a room the socket has not joined, even a public one, and stores nothing', async () => {
    const server = await serverWith();
    const alice = await signUp(server.url, 'alice');
    const socket = await socketOf(server, alice);
    const other = await socketOf(server, alice);
    await emitRaw(other, 'join', { room: 'lobby' });
    await send(other, 'lobby', 3);

    expect(await emitRaw(socket, 'receipt', { room: 'lobby', delivered: 3, read: 3 })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'join the room first' },
    });
    expect(await server.store.receiptsFor('lobby', alice.userId)).toMatchObject({
      delivered: 0,
      read: 0,
    });
  });

  it.each([
    ['no payload at all', undefined, 'invalid_payload'],
    ['a string', 'lobby', 'invalid_payload'],
    ['no room', { delivered: 1, read: 1 }, 'invalid_payload'],
    ['a room that is not a string', { room: 7, delivered: 1, read: 1 }, 'invalid_payload'],
    ['a room that is not a room id', { room: 'no spaces', delivered: 1, read: 1 }, 'invalid_room'],
    ['no read cursor', { room: 'lobby', delivered: 1 }, 'invalid_payload'],
    ['a negative cursor', { room: 'lobby', delivered: -1, read: 0 }, 'invalid_payload'],
    ['a fractional cursor', { room: 'lobby', delivered: 1.5, read: 1 }, 'invalid_payload'],
    ['a cursor as a string', { room: 'lobby', delivered: '3', read: 1 }, 'invalid_payload'],
    ['an unsafe integer', { room: 'lobby', delivered: 2 ** 60, read: 1 }, 'invalid_payload'],
  ])('refuses a receipt with %s, saying what is wrong', async (_what, payload, code) => {
    const server = await serverWith();
    const socket = await socketOf(server, await signUp(server.url, 'alice'));
    await emitRaw(socket, 'join', { room: 'lobby' });
    const answer = (await emitRaw(socket, 'receipt', payload)) as {
      ok: boolean;
      error: { code: string; message: string };
    };
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe(code);
    expect(answer.error.message.length).toBeGreaterThan(0);
  });

  it('answers receipts past the per-user budget with rate_limited and a wait', async () => {
    const server = await serverWith({
      floodLimits: { receiptRate: { capacity: 2, refillPerMinute: 1 } },
    });
    const socket = await socketOf(server, await signUp(server.url, 'alice'));
    await emitRaw(socket, 'join', { room: 'lobby' });
    const receipt = { room: 'lobby', delivered: 0, read: 0 };
    expect(await emitRaw(socket, 'receipt', receipt)).toMatchObject({ ok: true });
    expect(await emitRaw(socket, 'receipt', receipt)).toMatchObject({ ok: true });
    const refused = (await emitRaw(socket, 'receipt', receipt)) as {
      ok: false;
      error: { code: string; retryAfterMs: number };
    };
    expect(refused.error.code).toBe('rate_limited');
    expect(refused.error.retryAfterMs).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
  });

  it("answers a join with the user's own cursors, set from another device, and the highest of the other members'", async () => {
    const server = await serverWith();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const carol = await signUp(server.url, 'carol');
    const [aliceSocket, bobSocket, carolSocket] = await Promise.all([
      socketOf(server, alice),
      socketOf(server, bob),
      socketOf(server, carol),
    ]);
    const firstJoin = joinAckSchema.parse(await emitRaw(aliceSocket, 'join', { room: 'lobby' }));
    expect(firstJoin).toEqual({
      ok: true,
      room: 'lobby',
      latestSeq: 0,
      name: 'lobby',
      receipts: { delivered: 0, read: 0, othersDelivered: 0, othersRead: 0 },
    });
    await emitRaw(bobSocket, 'join', { room: 'lobby' });
    await emitRaw(carolSocket, 'join', { room: 'lobby' });
    await send(aliceSocket, 'lobby', 10);
    await emitRaw(aliceSocket, 'receipt', { room: 'lobby', delivered: 10, read: 8 });
    await emitRaw(bobSocket, 'receipt', { room: 'lobby', delivered: 9, read: 2 });
    await emitRaw(carolSocket, 'receipt', { room: 'lobby', delivered: 4, read: 4 });

    // Alice's phone joins: it learns how far she read on her laptop, and how far the others got.
    const phone = await socketOf(server, alice);
    const ack = joinAckSchema.parse(await emitRaw(phone, 'join', { room: 'lobby' }));
    expect(ack).toEqual({
      ok: true,
      room: 'lobby',
      latestSeq: 10,
      name: 'lobby',
      receipts: { delivered: 10, read: 8, othersDelivered: 9, othersRead: 4 },
    });
  });

  it('names a private room as its creator asked, shows the name to whoever joins it, and names it by default when asked for none', async () => {
    const server = await serverWith();
    const owner = await signUp(server.url, 'owner');
    const guest = await signUp(server.url, 'guest');
    const [ownerSocket, guestSocket] = await Promise.all([
      socketOf(server, owner),
      socketOf(server, guest),
    ]);
    const created = (await emitRaw(ownerSocket, 'createRoom', {
      name: '  Family\u0301 trip ',
    })) as {
      ok: true;
      room: string;
      invite: string;
      name: string;
    };
    // Trimmed and NFC-normalised, as display names are.
    expect(created).toMatchObject({ ok: true, name: 'Family\u0301 trip'.normalize('NFC') });
    const joined = joinAckSchema.parse(
      await emitRaw(guestSocket, 'join', { room: created.room, invite: created.invite }),
    );
    expect(joined).toMatchObject({ ok: true, room: created.room, name: created.name });

    const unnamed = await emitRaw(ownerSocket, 'createRoom', {});
    expect(unnamed).toMatchObject({ ok: true, name: DEFAULT_PRIVATE_ROOM_NAME });
    const { room } = unnamed as { room: string };
    expect(await emitRaw(ownerSocket, 'join', { room })).toMatchObject({
      ok: true,
      name: DEFAULT_PRIVATE_ROOM_NAME,
    });
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a name of spaces only', { name: '   ' }],
    ['a name too long', { name: 'x'.repeat(MAX_ROOM_NAME_CHARS + 1) }],
    ['a name with a control character', { name: 'line\nbreak' }],
    ['a name that reverses the text after it', { name: 'evil\u202Egnp' }],
    ['a name that is not a string', { name: 42 }],
    ['a field that createRoom does not take', { name: 'ok', public: true }],
  ])('refuses a room with %s, and makes no room', async (_what, payload) => {
    const server = await serverWith();
    const socket = await socketOf(server, await signUp(server.url, 'owner'));
    const answer = (await emitRaw(socket, 'createRoom', payload)) as {
      ok: boolean;
      error: { code: string; message: string };
    };
    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(answer.error.message).toMatch(/^createRoom takes \{ name\?: string \}: .+/);
  });

  it('takes a name of exactly the longest length', async () => {
    const server = await serverWith();
    const socket = await socketOf(server, await signUp(server.url, 'owner'));
    const name = 'n'.repeat(MAX_ROOM_NAME_CHARS);
    expect(await emitRaw(socket, 'createRoom', { name })).toMatchObject({ ok: true, name });
  });

  it('ends the membership of a private room on leave: joining again needs the invite, and another socket of the user is locked out too', async () => {
    const server = await serverWith();
    const owner = await signUp(server.url, 'owner');
    const guest = await signUp(server.url, 'guest');
    const ownerSocket = await socketOf(server, owner);
    const [laptop, phone] = await Promise.all([socketOf(server, guest), socketOf(server, guest)]);
    const { room, invite } = (await emitRaw(ownerSocket, 'createRoom', { name: 'Hideout' })) as {
      room: string;
      invite: string;
    };
    await emitRaw(ownerSocket, 'join', { room });
    await send(ownerSocket, room, 2);
    expect(await emitRaw(laptop, 'join', { room, invite })).toMatchObject({ ok: true });
    expect(await emitRaw(phone, 'join', { room })).toMatchObject({ ok: true });

    expect(await emitRaw(laptop, 'leave', { room })).toEqual({ ok: true, room });
    expect(await server.accounts.isMember(room, guest.userId)).toBe(false);
    expect(await emitRaw(laptop, 'join', { room })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    // The phone is still in the socket.io room, but every request checks the membership.
    for (const [event, payload] of [
      ['history', { room, after: 0, limit: 10 }],
      ['receipt', { room, delivered: 2, read: 2 }],
      ['send', { room, messages: [{ id: newMessageId(), body: 'still here?' }] }],
    ] as const) {
      expect(await emitRaw(phone, event, payload), event).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
    }
    expect(await server.accounts.isMember(room, owner.userId)).toBe(true);
    // The invite still works: back in.
    expect(await emitRaw(laptop, 'join', { room, invite })).toMatchObject({
      ok: true,
      name: 'Hideout',
    });
  });

  it('stops live messages of a room to the socket that left it, and only to that one', async () => {
    const server = await serverWith();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const [aliceSocket, bobLeaves, bobStays] = await Promise.all([
      socketOf(server, alice),
      socketOf(server, bob),
      socketOf(server, bob),
    ]);
    for (const socket of [aliceSocket, bobLeaves, bobStays]) {
      await emitRaw(socket, 'join', { room: 'lobby' });
    }
    const heardByLeaver: unknown[] = [];
    const heardByStayer: unknown[] = [];
    bobLeaves.on('messages', (event) => heardByLeaver.push(event));
    bobStays.on('messages', (event) => heardByStayer.push(event));
    expect(await emitRaw(bobLeaves, 'leave', { room: 'lobby' })).toEqual({
      ok: true,
      room: 'lobby',
    });
    await send(aliceSocket, 'lobby', 1);
    await waitFor('the staying socket to hear the message', () => heardByStayer.length === 1);
    // Sent to both at once, before the stayer heard it: none came to the leaver.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heardByLeaver).toEqual([]);
    // A public room needs no membership: the leaver may join again at once.
    expect(await emitRaw(bobLeaves, 'join', { room: 'lobby' })).toMatchObject({ ok: true });
  });

  it("frees one of the socket's room slots on leave", async () => {
    const server = await serverWith({ floodLimits: { maxRoomsPerSocket: 2 } });
    const socket = await socketOf(server, await signUp(server.url, 'alice'));
    expect(await emitRaw(socket, 'join', { room: 'a' })).toMatchObject({ ok: true });
    expect(await emitRaw(socket, 'join', { room: 'b' })).toMatchObject({ ok: true });
    expect(await emitRaw(socket, 'join', { room: 'c' })).toMatchObject({
      ok: false,
      error: { code: 'rate_limited' },
    });
    // Leaving a room the socket is not in frees nothing.
    expect(await emitRaw(socket, 'leave', { room: 'c' })).toEqual({ ok: true, room: 'c' });
    expect(await emitRaw(socket, 'join', { room: 'c' })).toMatchObject({ ok: false });
    // Nor does leaving the socket's own room, which is not a chat room.
    expect(await emitRaw(socket, 'leave', { room: socket.id })).toMatchObject({ ok: true });
    expect(await emitRaw(socket, 'join', { room: 'c' })).toMatchObject({ ok: false });
    expect(await emitRaw(socket, 'leave', { room: 'a' })).toEqual({ ok: true, room: 'a' });
    expect(await emitRaw(socket, 'join', { room: 'c' })).toMatchObject({ ok: true });
  });

  it.each([
    ['no room', {}, 'invalid_payload'],
    ['a room that is not a string', { room: ['lobby'] }, 'invalid_payload'],
    ['a room that is not a room id', { room: '../lobby' }, 'invalid_room'],
  ])('refuses a leave with %s', async (_what, payload, code) => {
    const server = await serverWith();
    const socket = await socketOf(server, await signUp(server.url, 'alice'));
    expect(await emitRaw(socket, 'leave', payload)).toMatchObject({ ok: false, error: { code } });
  });
});
