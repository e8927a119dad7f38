// How a client repairs its live stream: live messages that arrive out of order, and live
// messages that never arrive (lost between processes), against a real server and engine.
import { describe, expect, it } from 'vitest';
import { HOLE_WAIT_MS } from '../../src/client/live-order.ts';
import type { SentMessage } from '../../src/client/types.ts';
import type { LogEntry } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { deviceName, openDevice, type TestDevice, waitFor } from '../support/engine.ts';
import {
  startTestServer,
  type TestServer,
  tempDir,
  withStoreOverrides,
} from '../support/server.ts';

const ROOM = 'lobby';
const CAROL = { id: 'user-carol', name: 'carol' };

describe('live repair', () => {
  const cleanups = cleanupsAfterEach();

  /** A server whose history reads after a seq are counted. */
  async function setup(headCheckMs: number) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const reads = { after: 0 };
    const server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      wrapStore: (store) =>
        withStoreOverrides(store, {
          pageAfter: (...args) => {
            reads.after += 1;
            return store.pageAfter(...args);
          },
        }),
      serverOptions: { headCheckMs },
    });
    cleanups.push(() => server.stop());
    const bob = await openDevice(server.url, deviceName('bob'), { name: 'bob', room: ROOM });
    cleanups.push(() => bob.engine.destroy());
    await waitFor('bob joined', () => server.server.io.sockets.adapter.rooms.get(ROOM)?.size === 1);
    // The join's catch-up: one read of the empty room, then the room is marked caught up.
    await waitFor('bob caught up', () => reads.after === 1);
    await waitFor('bob caught up', () => bob.engine.room(ROOM).catchingUp === null);
    return { server, bob, reads };
  }

  /** Messages stored with no broadcast, as if their live event was lost on the way. */
  async function storeSilently(server: TestServer, bodies: string[]): Promise<LogEntry[]> {
    const outcomes = await server.store.appendBatch(
      ROOM,
      CAROL,
      bodies.map((body) => ({ id: crypto.randomUUID(), body })),
      Date.now(),
    );
    return outcomes.flatMap((outcome) => (outcome.status === 'accepted' ? [outcome.message] : []));
  }

  function seqsOf(device: TestDevice): number[] {
    return (device.engine.room(ROOM).messages as SentMessage[]).map((message) => message.seq);
  }

  it('shows a live message that came before its predecessor once the predecessor comes, without a history read', async () => {
    const { server, bob, reads } = await setup(3_600_000);
    const [first, second] = await storeSilently(server, ['one', 'two']);
    const readsBefore = reads.after;
    server.server.io.to(ROOM).emit('messages', { room: ROOM, messages: [second as LogEntry] });
    await new Promise((resolve) => setTimeout(resolve, HOLE_WAIT_MS / 5));
    expect(seqsOf(bob)).toEqual([]);
    server.server.io.to(ROOM).emit('messages', { room: ROOM, messages: [first as LogEntry] });
    await waitFor('bob to show both', () => seqsOf(bob).length === 2);
    expect(seqsOf(bob)).toEqual([1, 2]);
    await new Promise((resolve) => setTimeout(resolve, HOLE_WAIT_MS * 2));
    expect(reads.after - readsBefore).toBe(0);
  });

  it('fetches a hole in the live messages that stays open for the wait, once', async () => {
    const { server, bob, reads } = await setup(3_600_000);
    const [, second] = await storeSilently(server, ['lost on the way', 'arrived']);
    const readsBefore = reads.after;
    server.server.io.to(ROOM).emit('messages', { room: ROOM, messages: [second as LogEntry] });
    await waitFor('bob to fill the hole', () => seqsOf(bob).length === 2);
    expect(seqsOf(bob)).toEqual([1, 2]);
    expect(reads.after - readsBefore).toBe(1);
  });

  it("gives a quiet room's member a message whose live event was lost, by the next head check", async () => {
    const { server, bob } = await setup(300);
    await storeSilently(server, ['lost on the way']);
    await waitFor('bob to get it', () => seqsOf(bob).length === 1, 5_000);
    expect(bob.engine.room(ROOM).messages.map((m) => m.body)).toEqual(['lost on the way']);
  });

  it('gives the members what they missed when the process is told its fan-out is back', async () => {
    const { server, bob } = await setup(3_600_000);
    await storeSilently(server, ['sent while Redis was down', 'and this']);
    await new Promise((resolve) => setTimeout(resolve, HOLE_WAIT_MS * 2));
    expect(seqsOf(bob)).toEqual([]);
    await server.server.tellRoomHeads();
    await waitFor('bob to get both', () => seqsOf(bob).length === 2, 5_000);
    expect(seqsOf(bob)).toEqual([1, 2]);
  });

  it('does not read the store for a head the members have already reached', async () => {
    const { server, bob, reads } = await setup(3_600_000);
    const alice = await openDevice(server.url, deviceName('alice'), { name: 'alice', room: ROOM });
    cleanups.push(() => alice.engine.destroy());
    await alice.engine.send(ROOM, 'live and well');
    await waitFor('bob to get it live', () => seqsOf(bob).length === 1);
    await waitFor('alice caught up', () => alice.engine.room(ROOM).catchingUp === null);
    const readsBefore = reads.after;
    await server.server.tellRoomHeads();
    await new Promise((resolve) => setTimeout(resolve, HOLE_WAIT_MS * 2));
    expect(reads.after - readsBefore).toBe(0);
  });
});
