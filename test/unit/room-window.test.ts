import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStore, UNREAD_CONTEXT } from '../../src/client/local-store.ts';
import type { SentMessage } from '../../src/client/types.ts';

const uuid = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
let opened: LocalStore[] = [];
let nextDb = 0;

async function store(): Promise<LocalStore> {
  const local = await LocalStore.open(`room-window-${process.pid}-${nextDb++}`);
  opened.push(local);
  return local;
}

afterEach(() => {
  for (const local of opened) local.close();
  opened = [];
});

function sent(room: string, seq: number, authorId = 'them'): SentMessage {
  return {
    id: uuid(seq + (room === 'a' ? 0 : 500_000)),
    room,
    authorId,
    author: authorId,
    body: `m${seq}`,
    status: 'sent',
    seq,
    ts: 1_000 + seq,
  };
}

async function stored(local: LocalStore, room: string, seqs: readonly number[], author = 'them') {
  await local.commit({ sent: seqs.map((seq) => sent(room, seq, author)) });
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a room opens with a bounded window', () => {
  it('reads the newest messages of a room, ascending, and says older ones are stored', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 1_000));
    await stored(local, 'b', range(1, 50));
    const window = await local.loadWindow('a', 200);
    expect(window.sent.map((message) => message.seq)).toEqual(range(801, 1_000));
    expect(window.full).toBe(false);
  });

  it('says the window holds the whole room when the room is smaller than it', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 30));
    const window = await local.loadWindow('a', 200);
    expect(window.sent).toHaveLength(30);
    expect(window.full).toBe(true);
  });

  it('steps over a hole in the stored seqs and still answers as many as asked', async () => {
    const local = await store();
    await stored(local, 'a', [...range(1, 100), ...range(150, 200), ...range(260, 300)]);
    const window = await local.loadWindow('a', 120);
    expect(window.sent.map((message) => message.seq)).toEqual([
      ...range(73, 100),
      ...range(150, 200),
      ...range(260, 300),
    ]);
  });

  it('opens with every unread message past the window, and a few read ones above them', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 1_000));
    await local.commit({ room: { room: 'a', cursor: 1_000, floor: 1 } });
    await local.updateRoomMeta('a', () => meta('a', { read: 600 }));
    const window = await local.loadWindow('a', 200, 1_000);
    expect(window.sent[0]?.seq).toBe(601 - UNREAD_CONTEXT);
    expect(window.sent.at(-1)?.seq).toBe(1_000);
    // At most `unreadMax`: the newest of them.
    const capped = await local.loadWindow('a', 200, 300);
    expect(capped.sent[0]?.seq).toBe(701);
  });

  it('holds every pending and failed message of the room, in the order typed', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 500));
    const base = { room: 'a', authorId: 'me', author: 'me' };
    await local.enqueue({ ...base, id: uuid(900_001), body: 'one', createdAt: 1 });
    await local.enqueue({ ...base, id: uuid(900_002), body: 'two', createdAt: 2 });
    await local.enqueue({
      ...base,
      room: 'b',
      id: uuid(900_003),
      body: 'other room',
      createdAt: 3,
    });
    const window = await local.loadWindow('a', 10);
    expect(window.local.map((message) => message.body)).toEqual(['one', 'two']);
    expect(window.sent).toHaveLength(10);
  });

  it('pages older messages from just below a seq until none is left', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 250));
    const first = await local.loadBelow('a', 51, 40);
    expect(first.sent.map((message) => message.seq)).toEqual(range(11, 50));
    expect(first.exhausted).toBe(false);
    const last = await local.loadBelow('a', 11, 40);
    expect(last.sent.map((message) => message.seq)).toEqual(range(1, 10));
    expect(last.exhausted).toBe(true);
  });
});

describe('the room list on the device', () => {
  it('counts the messages of others above the read cursor, up to the cap', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 10));
    await stored(local, 'a', [11, 12], 'me');
    await local.updateRoomMeta('a', () => meta('a', { read: 4 }));
    const [summary] = await local.roomSummaries('me', 100);
    expect(summary?.unread).toBe(6);
    expect(summary?.last?.body).toBe('m12');
    const [capped] = await local.roomSummaries('me', 3);
    expect(capped?.unread).toBe(3);
  });

  it('counts others past a burst of the user’s own messages above the cursor', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 10), 'me');
    await stored(local, 'a', [11, 12, 13]);
    await local.updateRoomMeta('a', () => meta('a'));
    const [summary] = await local.roomSummaries('me', 5);
    expect(summary?.unread).toBe(3);
  });

  it('forgets a room whole: its messages, what it had queued and its entry, and no other room', async () => {
    const local = await store();
    await stored(local, 'a', range(1, 5));
    await stored(local, 'b', range(1, 5));
    await local.updateRoomMeta('a', () => meta('a'));
    await local.updateRoomMeta('b', () => meta('b'));
    const base = { authorId: 'me', author: 'me', createdAt: 1 };
    await local.enqueue({ ...base, room: 'a', id: uuid(900_001), body: 'never sent' });
    await local.enqueue({ ...base, room: 'b', id: uuid(900_002), body: 'kept' });

    expect(await local.forgetRoom('a')).toBe(1);
    const a = await local.loadWindow('a', 100);
    expect([a.sent.length, a.local.length, a.meta]).toEqual([0, 0, undefined]);
    expect((await local.readOutbox(0, 10)).map((entry) => entry.body)).toEqual(['kept']);
    expect((await local.loadWindow('b', 100)).sent).toHaveLength(5);
    expect((await local.roomMetas()).map((entry) => entry.room)).toEqual(['b']);
  });

  it('lists every room a database from before the list followed, named by its id', async () => {
    const name = `room-window-v2-${process.pid}-${nextDb++}`;
    const v2 = await openDB(name, 2, {
      upgrade(db) {
        db.createObjectStore('outbox', { keyPath: 'key', autoIncrement: true });
        const messages = db.createObjectStore('messages', { keyPath: 'id' });
        messages.createIndex('by-room', 'room');
        messages.createIndex('by-room-seq', ['room', 'seq']);
        db.createObjectStore('rooms', { keyPath: 'room' });
        db.createObjectStore('session');
        const amendments = db.createObjectStore('amendments', { keyPath: 'target' });
        amendments.createIndex('by-room-version', ['room', 'version']);
        db.createObjectStore('outboxClaims');
      },
    });
    await v2.put('rooms', { room: 'lobby', cursor: 3, floor: 1 });
    await v2.put('messages', {
      id: uuid(1),
      room: 'lobby',
      authorId: 'me',
      author: 'me',
      body: 'typed before the upgrade',
      status: 'pending',
      order: 1,
      createdAt: 1,
    });
    v2.close();

    const local = await LocalStore.open(name);
    opened.push(local);
    // Read up to what it held: a whole history is not shown as unread after the upgrade.
    expect(await local.roomMetas()).toMatchObject([{ room: 'lobby', name: 'lobby', read: 3 }]);
    expect((await local.loadWindow('lobby', 10)).local.map((message) => message.body)).toEqual([
      'typed before the upgrade',
    ]);
  });
});

function meta(room: string, cursors: { read?: number } = {}) {
  return {
    room,
    name: room,
    addedAt: 0,
    read: cursors.read ?? 0,
    unreadFloor: 0,
    readAcked: 0,
    deliveredAcked: 0,
    othersDelivered: 0,
    othersRead: 0,
  };
}
