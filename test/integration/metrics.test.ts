// `GET /metrics` (docs/operations.md, "Metrics"): what a scripted session did, counted.
import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import { PROTOCOL_VERSION, type Session } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { scrape } from '../support/prometheus.ts';
import {
  emitRaw,
  postMessages,
  type RawSocket,
  rawClient,
  sendBatch,
  signUp,
} from '../support/raw-client.ts';
import { startTestServer, type TestServerOptions, tempDir } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

describe('GET /metrics', () => {
  const cleanups = cleanupsAfterEach();

  async function server(serverOptions: TestServerOptions['serverOptions'] = {}) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const started = await startTestServer({ dbPath: `${dir.path}/ferry.db`, serverOptions });
    cleanups.push(() => started.stop());
    return started;
  }

  async function connect(url: string, session: Session): Promise<RawSocket> {
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.close());
    return socket;
  }

  const message = (body = 'hello') => ({ id: newMessageId(), body });

  it('counts what a scripted session did: messages by outcome, holds, pages, refusals, sockets', async () => {
    // A budget of three messages, refilled too slowly to matter.
    const { url } = await server({ messageRate: { capacity: 3, refillPerMinute: 1 } });
    const alice = await signUp(url, 'alice');
    const bob = await signUp(url, 'bob');
    const aliceSocket = await connect(url, alice);
    const bobSocket = await connect(url, bob);
    expect((await scrape(url)).value('ferry_connected_sockets')).toBe(2);

    await expect(
      rawClient(url, { token: 'a-made-up-token-long-enough-to-parse' }),
    ).rejects.toThrow();
    const first = message();
    await sendBatch(aliceSocket, 'lobby', [first, message(), message()]); // 3 accepted
    await sendBatch(aliceSocket, 'lobby', [first]); // 1 duplicate
    await sendBatch(aliceSocket, 'lobby', [message('   ')]); // 1 rejected: body_empty
    await sendBatch(aliceSocket, 'lobby', [message()]); // over the budget: 1 held
    const behind = await sendBatch(aliceSocket, 'lobby', [message()]); // refused behind it
    expect(behind.error?.code).toBe('rate_limited');
    for (let page = 0; page < 2; page++) {
      expect(
        await emitRaw(bobSocket, 'history', { room: 'lobby', after: 0, limit: 50 }),
      ).toMatchObject({
        ok: true,
      });
    }

    const metrics = await scrape(url);
    expect({
      accepted: metrics.value('ferry_messages_total', { outcome: 'accepted' }),
      duplicate: metrics.value('ferry_messages_total', { outcome: 'duplicate' }),
      bodyEmpty: metrics.value('ferry_messages_total', { outcome: 'rejected', code: 'body_empty' }),
      rateLimited: metrics.value('ferry_messages_total', { outcome: 'rate_limited' }),
      holds: metrics.value('ferry_rate_limit_holds_total'),
      refusedBehindHold: metrics.value('ferry_batches_refused_total', { code: 'rate_limited' }),
      historyPages: metrics.value('ferry_history_pages_total'),
      unauthorized: metrics.value('ferry_handshake_refusals_total', { code: 'unauthorized' }),
      acks: metrics.value('ferry_ack_latency_seconds_count'),
    }).toEqual({
      accepted: 3,
      duplicate: 1,
      bodyEmpty: 1,
      rateLimited: 1,
      holds: 1,
      refusedBehindHold: 1,
      historyPages: 2,
      unauthorized: 1,
      acks: 5,
    });

    bobSocket.disconnect();
    await waitFor(
      'the gauge to count one socket',
      async () => (await scrape(url)).value('ferry_connected_sockets') === 1,
    );
  });

  it('times every group commit of the store, with how many batches shared it', async () => {
    const { url } = await server();
    const alice = await signUp(url, 'alice');
    const sockets = await Promise.all([1, 2, 3].map(() => connect(url, alice)));
    await Promise.all(sockets.map((socket) => sendBatch(socket, 'lobby', [message()])));

    const metrics = await scrape(url);
    const commits = metrics.value('ferry_group_commit_batches_count');
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(3);
    expect(metrics.value('ferry_group_commit_batches_sum')).toBe(3);
    expect(metrics.value('ferry_group_commit_seconds_count')).toBe(commits);
    expect(metrics.value('ferry_group_commit_seconds_sum')).toBeGreaterThan(0);
  });

  it("counts a batch posted over HTTP with the socket's, in ferry_messages_total", async () => {
    const { url } = await server();
    const alice = await signUp(url, 'alice');
    const answer = await postMessages(url, alice.token, { room: 'lobby', messages: [message()] });
    expect(answer.status).toBe(200);
    expect((await scrape(url)).value('ferry_messages_total', { outcome: 'accepted' })).toBe(1);
  });

  it("exposes the process's event-loop lag and heap under ferry_", async () => {
    const { url } = await server();
    const { types } = await scrape(url);
    expect(types.get('ferry_nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    expect(types.get('ferry_nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('counts each server apart when several run in one process', async () => {
    const busy = await server();
    const idle = await server();
    const alice = await signUp(busy.url, 'alice');
    await sendBatch(await connect(busy.url, alice), 'lobby', [message()]);

    expect((await scrape(busy.url)).value('ferry_messages_total', { outcome: 'accepted' })).toBe(1);
    expect((await scrape(idle.url)).value('ferry_messages_total', { outcome: 'accepted' })).toBe(0);
  });

  it('asks for the bearer token when one is set, and compares it whole', async () => {
    const token = 'scrape-token-0123456789';
    const { url } = await server({ metricsToken: token });
    const status = async (authorization?: string) =>
      (await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} })).status;

    expect(await status()).toBe(401);
    expect(await status(`Bearer ${token.slice(0, -1)}`)).toBe(401);
    expect(await status(`Bearer ${token}`)).toBe(200);
  });

  it('is not served when metrics are off', async () => {
    const { url } = await server({ metrics: false });
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });
});
