// A tab with many open rooms on one real server: joining and catching them all up on
// connect must stay within what the server queues per socket (MAX_QUEUED_REQUESTS), even
// with the outbox flushing beside it, or the socket is dropped on every connect.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { allSent, deviceName, openDevice, waitFor } from '../support/engine.ts';
import { captureLog } from '../support/log-capture.ts';
import { startTestServer, tempDir } from '../support/server.ts';

const ROOM_COUNT = 100;
const SEEDED_PER_ROOM = 3;
/** Rooms that also get messages queued offline, interleaved so each is a batch of its own. */
const SENDING_ROOMS = 20;
const QUEUED_MESSAGES = 60;

describe('a tab with a hundred open rooms', () => {
  const cleanups = cleanupsAfterEach();

  it('joins and catches up every room, and flushes its outbox, without its connection ever being dropped', async () => {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const log = captureLog('warn');
    const server = await startTestServer({ dbPath: `${dir.path}/ferry.db`, logger: log.logger });
    const dropLog = log.messages;
    cleanups.push(() => server.stop());
    let disconnects = 0;
    server.server.io.on('connection', (socket) => {
      socket.on('disconnect', () => {
        disconnects += 1;
      });
    });

    const rooms = Array.from({ length: ROOM_COUNT }, (_, i) => `room-${i}`);
    const author = { id: 'seed', name: 'seed' };
    for (const room of rooms) {
      const items = Array.from({ length: SEEDED_PER_ROOM }, (_, i) => ({
        id: newMessageId(),
        body: `${room} seed ${i}`,
      }));
      await server.store.appendBatch(room, author, items, Date.now());
    }

    const alice = await openDevice(server.url, deviceName('alice'), {
      name: 'alice',
      online: false,
    });
    cleanups.push(() => alice.engine.destroy());
    for (const room of rooms) await alice.engine.openRoom(room);
    for (let i = 0; i < QUEUED_MESSAGES; i += 1) {
      await alice.engine.send(rooms[i % SENDING_ROOMS] as string, `mine ${i}`);
    }

    const statuses: string[] = [];
    cleanups.push(
      alice.engine.subscribe(() => {
        const status = alice.engine.connection.status;
        if (statuses.at(-1) !== status) statuses.push(status);
      }),
    );
    alice.connectivity.set(true);

    const expectedCount = (index: number) =>
      SEEDED_PER_ROOM + (index < SENDING_ROOMS ? QUEUED_MESSAGES / SENDING_ROOMS : 0);
    await waitFor('every room joined, caught up and flushed', () => {
      // A drop would be retried for ever: fail on the first one rather than time out.
      if (disconnects > 0)
        throw new Error(`the server dropped the socket: ${dropLog[0] ?? 'no reason logged'}`);
      return (
        alice.engine.outboxCount === 0 &&
        rooms.every((room, index) => {
          const { messages } = alice.engine.room(room);
          return messages.length === expectedCount(index) && allSent(messages);
        })
      );
    });

    expect(disconnects).toBe(0);
    expect(statuses.slice(statuses.indexOf('connected'))).toEqual(['connected']);
    expect(rooms.map((room) => alice.engine.room(room).denied)).toEqual(rooms.map(() => null));
  });
});
