import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { HeadEvent, MessagesEvent, ReceiptsEvent } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { connectTo, describeWithPostgres, freshDatabase } from '../support/postgres.ts';
import {
  emitRaw,
  postMessages,
  type RawSocket,
  rawClient,
  sendBatch,
  signUp,
} from '../support/raw-client.ts';
import { describeWithRedis, RedisProcess } from '../support/redis.ts';
import { freePort, tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

/**
 * How soon a message must reach a client of the other process to count as live. The raw
 * clients here never catch up, so anything they get came live; an app's catch-up would
 * come only at its next reconnect, or at the next live message that shows it a gap.
 */
const LIVE_WITHIN_MS = 2_000;
/** How long a client of a process without fan-out is watched for a message it must not get. */
const QUIET_MS = 500;
/** Sends while waiting for fan-out to come back are this far apart. */
const PROBE_EVERY_MS = 100;
/** The longest wait for fan-out to come back after Redis does. */
const RESUME_WITHIN_MS = 10_000;
const HEALTH_WITHIN_MS = 1_000;
/** How soon after its Redis link is back a process tells its clients their rooms' heads. */
const HEAD_AFTER_RECOVERY_MS = 2_000;

let rooms = 0;
const freshRoom = () => `fanout-${++rooms}`;

/** The bodies of every `messages` event `socket` gets for `room`, as they come. */
function liveBodies(socket: RawSocket, room: string): string[] {
  const bodies: string[] = [];
  socket.on('messages', (event: MessagesEvent) => {
    if (event.room === room) bodies.push(...event.messages.map((message) => message.body));
  });
  return bodies;
}

/** Sends one message and expects it stored; answers its seq. */
async function sendOne(socket: RawSocket, room: string, body: string): Promise<number> {
  const ack = await sendBatch(socket, room, [{ id: newMessageId(), body }]);
  expect(ack).toMatchObject({ ok: true, results: [{ status: 'accepted' }] });
  return ack.results?.[0]?.seq ?? 0;
}

/** The bodies of a room's messages in PostgreSQL, in seq order. */
async function storedBodies(databaseUrl: string, room: string): Promise<string[]> {
  const client = await connectTo(databaseUrl);
  try {
    const { rows } = await client.query<{ body: string }>(
      'SELECT body FROM messages WHERE room = $1 ORDER BY seq',
      [room],
    );
    return rows.map((row) => row.body);
  } finally {
    await client.end();
  }
}

/** A process that answers /healthz within HEALTH_WITHIN_MS (a blocked event loop does not). */
async function healthy(server: ServerProcess): Promise<boolean> {
  const response = await fetch(`${server.url()}/healthz`, {
    signal: AbortSignal.timeout(HEALTH_WITHIN_MS),
  }).catch(() => null);
  return server.running && response?.status === 200;
}

/** Lines of a server's log about its Redis fan-out that contain `text`. */
const logLines = (server: ServerProcess, text: string) =>
  server.log.filter((line) => line.includes('Redis fan-out') && line.includes(text));

/**
 * Two `npm start` processes over one PostgreSQL database: with FERRY_REDIS_URL a broadcast
 * on one reaches the sockets of the other through a Redis stream (redis-fanout.ts).
 */
describeWithPostgres('live fan-out between two Ferry processes', () => {
  const cleanups = cleanupsAfterEach();
  const servers: ServerProcess[] = [];
  const dirs: { dispose(): void }[] = [];
  let databaseUrl = '';
  let dropDatabase = async () => {};

  beforeAll(async () => {
    const fresh = await freshDatabase();
    databaseUrl = fresh.url;
    dropDatabase = fresh.drop;
  });
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.dispose();
    for (const dir of dirs.splice(0)) dir.dispose();
    await dropDatabase();
  });

  async function node(env: Record<string, string>): Promise<ServerProcess> {
    const dir = tempDir();
    dirs.push(dir);
    const server = new ServerProcess({
      port: 0,
      dbPath: join(dir.path, 'unused.db'),
      env: { FERRY_DATABASE_URL: databaseUrl, ...env },
    });
    servers.push(server);
    await server.start();
    return server;
  }

  /** A signed-up client of `server`, in `room`. */
  async function client(server: ServerProcess, name: string, room: string): Promise<RawSocket> {
    const { token } = await signUp(server.url(), name);
    const socket = await rawClient(server.url(), { token });
    cleanups.push(() => void socket.close());
    expect(await emitRaw(socket, 'join', { room })).toMatchObject({ ok: true });
    return socket;
  }

  describeWithRedis('over Redis Streams (FERRY_REDIS_URL)', () => {
    let redis: RedisProcess;
    let a: ServerProcess;
    let b: ServerProcess;

    beforeAll(async () => {
      redis = await RedisProcess.start();
      [a, b] = await Promise.all([
        node({ FERRY_REDIS_URL: redis.url }),
        node({ FERRY_REDIS_URL: redis.url }),
      ]);
      await waitFor('both nodes to reach Redis', () =>
        [a, b].every((server) => logLines(server, ': connected').length > 0),
      );
    });
    afterAll(async () => {
      await redis?.stop();
    });
    // A test that failed with Redis stopped must not take the next ones down with it.
    beforeEach(async () => {
      if (!redis.running) await redis.start();
    });

    it('delivers a message sent by a client of node A to a client of node B live', async () => {
      const room = freshRoom();
      const alice = await client(a, 'alice', room);
      const bob = await client(b, 'bob', room);
      const seen = liveBodies(bob, room);

      await sendOne(alice, room, 'hello from A');
      await waitFor('bob on B to get it live', () => seen.length > 0, LIVE_WITHIN_MS);
      expect(seen).toEqual(['hello from A']);
    });

    it('tells a client of node B live when a member on node A says how far they have read, with the cursors as stored in PostgreSQL', async () => {
      const room = freshRoom();
      const alice = await client(a, 'alice', room);
      const bob = await client(b, 'bob', room);
      const heard: ReceiptsEvent[] = [];
      bob.on('receipts', (event) => heard.push(event));
      await sendOne(alice, room, 'one');
      await sendOne(alice, room, 'two');

      const ack = await emitRaw(alice, 'receipt', { room, delivered: 9, read: 1 });
      expect(ack).toEqual({ ok: true, room, delivered: 2, read: 1 });
      await waitFor('bob on B to hear it live', () => heard.length > 0, LIVE_WITHIN_MS);
      expect(heard).toEqual([{ room, userId: expect.any(String), delivered: 2, read: 1 }]);
      // Bob's next join, on node B, reads the same cursors from the shared database.
      expect(await emitRaw(bob, 'join', { room })).toMatchObject({
        receipts: { delivered: 0, read: 0, othersDelivered: 2, othersRead: 1 },
      });
    });

    it('delivers a message posted to POST /api/messages on node A to a client of node B live', async () => {
      const room = freshRoom();
      const bob = await client(b, 'bob', room);
      const seen = liveBodies(bob, room);

      const { token } = await signUp(a.url(), 'poster');
      const answer = await postMessages(a.url(), token, {
        room,
        messages: [{ id: newMessageId(), body: 'posted to A' }],
      });
      expect(answer.status).toBe(200);
      await waitFor('bob on B to get it live', () => seen.length > 0, LIVE_WITHIN_MS);
      expect(seen).toEqual(['posted to A']);
    });

    it('keeps storing and acking sends while Redis is down, says so once, and fans out again once it is back', async () => {
      const room = freshRoom();
      const alice = await client(a, 'alice', room);
      const bob = await client(b, 'bob', room);
      const seen = liveBodies(bob, room);
      await sendOne(alice, room, 'before');
      await waitFor('fan-out before the outage', () => seen.includes('before'), LIVE_WITHIN_MS);
      const linesBefore = (server: ServerProcess) => ({
        lost: logLines(server, 'connection lost').length,
        back: logLines(server, 'back after').length,
      });
      const before = new Map([a, b].map((server) => [server, linesBefore(server)]));

      await redis.stop();
      await waitFor('both nodes to notice', () =>
        [a, b].every((server) => linesBefore(server).lost > (before.get(server)?.lost ?? 0)),
      );
      const during = ['during 1', 'during 2', 'during 3'];
      for (const body of during) await sendOne(alice, room, body);
      // Long enough for several reconnect attempts, none of which may be logged.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await storedBodies(databaseUrl, room)).toEqual(['before', ...during]);
      expect(await healthy(a)).toBe(true);
      expect(await healthy(b)).toBe(true);

      await redis.start();
      const restarted = Date.now();
      let probes = 0;
      const probed: string[] = [];
      await waitFor(
        'a message sent to A after the restart to reach B live',
        async () => {
          const body = `after ${++probes}`;
          probed.push(body);
          await sendOne(alice, room, body);
          return seen.some((got) => probed.includes(got));
        },
        RESUME_WITHIN_MS,
        PROBE_EVERY_MS,
      );
      const resumedMs = Date.now() - restarted;
      console.log(`fan-out resumed ${resumedMs} ms after Redis restarted (${probes} probes)`);
      // One line for the loss and one for the recovery, however many attempts came between.
      for (const [server, { lost, back }] of before) {
        await waitFor('the recovery line', () => linesBefore(server).back === back + 1);
        expect(linesBefore(server).lost).toBe(lost + 1);
      }
      expect(await healthy(a)).toBe(true);
      expect(await healthy(b)).toBe(true);
    });

    it("tells node B's clients their rooms' newest seq once its Redis is back, so they fetch what they missed", async () => {
      const room = freshRoom();
      const alice = await client(a, 'alice', room);
      const bob = await client(b, 'bob', room);
      const heads: number[] = [];
      bob.on('head', (event: HeadEvent) => {
        if (event.room === room) heads.push(event.latestSeq);
      });
      const backBefore = logLines(b, 'back after').length;

      await redis.stop();
      await waitFor('B to notice', () => logLines(b, 'connection lost').length > 0);
      const missed = await sendOne(alice, room, 'sent to A while Redis was down');
      await redis.start();
      await waitFor('B to reconnect', () => logLines(b, 'back after').length > backBefore);
      const back = Date.now();
      // Well before the periodic head check (every 15–25 s).
      await waitFor('the head to reach bob', () => heads.includes(missed), HEAD_AFTER_RECOVERY_MS);
      console.log(`head told ${Date.now() - back} ms after B's Redis link was back`);
    });

    it('starts, and stores what is sent to it, while its Redis is unreachable', async () => {
      const nowhere = `redis://127.0.0.1:${await freePort()}`;
      const lonely = await node({ FERRY_REDIS_URL: nowhere });
      const room = freshRoom();
      const alice = await client(lonely, 'alice', room);

      await sendOne(alice, room, 'no Redis yet');
      expect(await storedBodies(databaseUrl, room)).toEqual(['no Redis yet']);
      expect(logLines(lonely, 'unreachable')).toHaveLength(1);
      expect(await healthy(lonely)).toBe(true);
    });

    it("keeps delivering to node A's own clients live while Redis is down", async () => {
      const room = freshRoom();
      const alice = await client(a, 'alice', room);
      const carol = await client(a, 'carol', room);
      const seen = liveBodies(carol, room);

      await redis.stop();
      await sendOne(alice, room, 'while Redis is down');
      await waitFor('carol on A to get it live', () => seen.length > 0, LIVE_WITHIN_MS);
      expect(seen).toEqual(['while Redis is down']);
    });
  });

  it("does not deliver node A's messages to a client of node B live without FERRY_REDIS_URL", async () => {
    // Empty, not unset: a FERRY_REDIS_URL in the test run's own environment must not count.
    const [a, b] = await Promise.all([
      node({ FERRY_REDIS_URL: '' }),
      node({ FERRY_REDIS_URL: '' }),
    ]);
    const room = freshRoom();
    const alice = await client(a, 'alice', room);
    const carol = await client(a, 'carol', room);
    const bob = await client(b, 'bob', room);
    const seenOnA = liveBodies(carol, room);
    const seenOnB = liveBodies(bob, room);

    await sendOne(alice, room, 'only on A');
    await waitFor('carol on A to get it live', () => seenOnA.length > 0, LIVE_WITHIN_MS);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(seenOnB).toEqual([]);
  });
});
