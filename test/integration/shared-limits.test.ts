import { expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { createRedisRateLimits } from '../../src/server/redis-buckets.ts';
import type { MessageStore } from '../../src/server/store/message-store.ts';
import type { RateLimit } from '../../src/server/token-bucket.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { bodies } from '../support/engine.ts';
import { captureLog } from '../support/log-capture.ts';
import {
  postSession,
  type RawSocket,
  rawClient,
  sendBatch,
  signUp,
} from '../support/raw-client.ts';
import { describeWithRedis, redisForSuite } from '../support/redis.ts';
import { startTestServer, type TestServer, tempDir, withAppend } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

/** A budget of 10 that no test lasts long enough to see refill. */
const TEN_MESSAGES: RateLimit = { capacity: 10, refillPerMinute: 1 };

/** Messages with fresh ids, bodies `${label} 0`, `${label} 1`, ... */
function messages(label: string, count: number): { id: string; body: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: newMessageId(), body: `${label} ${i}` }));
}

/** What became of each message of a batch: `accepted`, `duplicate`, or its refusal code. */
function outcomes(ack: Awaited<ReturnType<typeof sendBatch>>): string[] {
  return (ack.results ?? []).map((r) => (r.status === 'rejected' ? (r.code ?? '') : r.status));
}

interface Node {
  server: TestServer;
  /** What its Redis rate limits logged. */
  lines: string[];
}

interface NodeOptions {
  messageRate?: RateLimit;
  signupRate?: RateLimit;
  /** Wraps this node's store, e.g. to make an append fail. */
  wrapStore?: (store: MessageStore) => MessageStore;
}

/**
 * Two Ferry servers in this process, over one SQLite file, each with its own connection to
 * one Redis for its rate limits: two processes of a cluster, as far as limits go.
 */
describeWithRedis('limits shared by two Ferry nodes through Redis', () => {
  const cleanups = cleanupsAfterEach();
  const suite = redisForSuite();

  async function twoNodes(a: NodeOptions = {}, b: NodeOptions = {}): Promise<[Node, Node]> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const node = async ({ wrapStore, ...rates }: NodeOptions): Promise<Node> => {
      const { logger, messages: lines } = captureLog();
      const limits = createRedisRateLimits(suite.redis.url, logger);
      cleanups.push(() => limits.close());
      const server = await startTestServer({
        dbPath: `${dir.path}/ferry.db`,
        ...(wrapStore ? { wrapStore } : {}),
        serverOptions: { rateBuckets: limits.buckets, ...rates },
      });
      cleanups.push(() => server.stop());
      await waitFor('the node to reach Redis', () => lines.some((l) => l.endsWith(': connected')));
      return { server, lines };
    };
    return [await node(a), await node(b)];
  }

  async function socketOn(node: Node, token: string): Promise<RawSocket> {
    const socket = await rawClient(node.server.url, { token });
    cleanups.push(() => void socket.close());
    return socket;
  }

  /** Alice, signed up on `home`, with a socket on each node. */
  async function aliceOnBoth(home: Node, other: Node): Promise<[RawSocket, RawSocket]> {
    const { token } = await signUp(home.server.url, 'alice');
    return [await socketOn(home, token), await socketOn(other, token)];
  }

  const linesOf = (nodes: Node[], text: string) =>
    nodes.every((node) => node.lines.some((line) => line.includes(text)));

  it('gives a user sending through two nodes one budget, and cuts the batch on the second where it ends', async () => {
    const [a, b] = await twoNodes({ messageRate: TEN_MESSAGES }, { messageRate: TEN_MESSAGES });
    const [onA, onB] = await aliceOnBoth(a, b);
    const first = messages('through A', 6);
    const second = messages('through B', 6);

    expect(outcomes(await sendBatch(onA, 'lobby', first))).toEqual(Array(6).fill('accepted'));
    expect(outcomes(await sendBatch(onB, 'lobby', second))).toEqual([
      ...Array(4).fill('accepted'),
      'rate_limited',
      'rate_limited',
    ]);
    const stored = await a.server.store.pageAfter('lobby', 0, 100);
    expect(bodies(stored)).toEqual(bodies([...first, ...second.slice(0, 4)]));
  });

  it('charges nothing for a resend, through the other node, of messages already stored', async () => {
    const [a, b] = await twoNodes({ messageRate: TEN_MESSAGES }, { messageRate: TEN_MESSAGES });
    const [onA, onB] = await aliceOnBoth(a, b);
    const sent = messages('sent', 6);
    await sendBatch(onA, 'lobby', sent);

    // The ack was lost; the client reconnected to the other node and resends.
    expect(outcomes(await sendBatch(onB, 'lobby', sent))).toEqual(Array(6).fill('duplicate'));
    expect(outcomes(await sendBatch(onB, 'lobby', messages('new', 5)))).toEqual([
      ...Array(4).fill('accepted'),
      'rate_limited',
    ]);
  });

  it('gives the shared budget back the tokens of a batch one node could not store', async () => {
    let failNextAppend = true;
    const failingOnce = (store: MessageStore): MessageStore =>
      withAppend(store, async (...args) => {
        if (!failNextAppend) return store.appendBatch(...args);
        failNextAppend = false;
        throw new Error('the disk is full');
      });
    const [a, b] = await twoNodes(
      { messageRate: TEN_MESSAGES, wrapStore: failingOnce },
      { messageRate: TEN_MESSAGES },
    );
    const [onA, onB] = await aliceOnBoth(a, b);

    // (Worded as rate_limited to the raw client's protocol: see send-handler.ts, refusalCode.)
    expect(await sendBatch(onA, 'lobby', messages('lost', 10))).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('could not store') },
    });
    expect(outcomes(await sendBatch(onB, 'lobby', messages('stored', 10)))).toEqual(
      Array(10).fill('accepted'),
    );
  });

  it('shares the sign-up limit of an address between two nodes', async () => {
    const signupRate = { capacity: 3, refillPerMinute: 1 };
    const [a, b] = await twoNodes({ signupRate }, { signupRate });
    const statuses = [];
    for (const node of [a, a, b, b, a]) {
      statuses.push((await postSession(node.server.url, { name: 'someone' })).status);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
  });

  it('keeps accepting sends and sign-ups while Redis is down, each node counting on its own', async () => {
    const signupRate = { capacity: 2, refillPerMinute: 1 };
    const rates = { messageRate: TEN_MESSAGES, signupRate };
    const [a, b] = await twoNodes(rates, rates);
    const [onA, onB] = await aliceOnBoth(a, b);
    await suite.redis.stop();
    await waitFor('both nodes to see Redis gone', () => linesOf([a, b], 'connection lost'));

    expect(outcomes(await sendBatch(onA, 'lobby', messages('A', 10)))).toEqual(
      Array(10).fill('accepted'),
    );
    expect(outcomes(await sendBatch(onB, 'lobby', messages('B', 10)))).toEqual(
      Array(10).fill('accepted'),
    );
    expect((await postSession(a.server.url, { name: 'bob' })).status).toBe(201);
    expect((await postSession(b.server.url, { name: 'carol' })).status).toBe(201);
  });

  it('shares the limits again once Redis is back', async () => {
    const [a, b] = await twoNodes({ messageRate: TEN_MESSAGES }, { messageRate: TEN_MESSAGES });
    const [onA, onB] = await aliceOnBoth(a, b);
    await suite.redis.stop();
    await waitFor('both nodes to see Redis gone', () => linesOf([a, b], 'connection lost'));
    await suite.redis.start();
    await waitFor('both nodes to be back on Redis', () => linesOf([a, b], 'back after'));

    expect(outcomes(await sendBatch(onA, 'lobby', messages('A', 6)))).toEqual(
      Array(6).fill('accepted'),
    );
    expect(outcomes(await sendBatch(onB, 'lobby', messages('B', 6)))).toEqual([
      ...Array(4).fill('accepted'),
      'rate_limited',
      'rate_limited',
    ]);
  });
});
