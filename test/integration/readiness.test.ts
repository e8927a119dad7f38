import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/server/logger.ts';
import type { ReadinessReport } from '../../src/server/readiness.ts';
import { openSqlite } from '../../src/server/store/sqlite-db.ts';
import { PROTOCOL_VERSION } from '../../src/shared/protocol.ts';
import { cleanupsAfterEach } from '../support/cleanups.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { captureLog } from '../support/log-capture.ts';
import { describeWithPostgres, freshDatabase, POSTGRES_ADMIN_URL } from '../support/postgres.ts';
import { rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { describeWithRedis, RedisProcess } from '../support/redis.ts';
import { startTestServer, tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

/** /readyz must answer within this even when the database does not answer at all. */
const PROBE_WITHIN_MS = 2_000;
/** What a healthy store's probe takes at most, on a busy 2-core CI machine. */
const FAST_MS = 250;
/** The longest wait for /readyz to be 200 again once the database is back. */
const BACK_WITHIN_MS = 15_000;

interface Probe {
  status: number;
  body: ReadinessReport;
  cacheControl: string | null;
  ms: number;
}

/** GET /readyz, timed; gives up well after PROBE_WITHIN_MS so that a hang fails clearly. */
async function readyz(url: string): Promise<Probe> {
  const started = performance.now();
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as ReadinessReport;
  return {
    status: response.status,
    body,
    cacheControl: response.headers.get('Cache-Control'),
    ms: performance.now() - started,
  };
}

async function healthzMs(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  return performance.now() - started;
}

describe('GET /readyz over SQLite', () => {
  const cleanups = cleanupsAfterEach();

  async function server(logger?: Logger) {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const dbPath = join(dir.path, 'ferry.db');
    const started = await startTestServer({ dbPath, ...(logger ? { logger } : {}) });
    cleanups.push(() => started.stop());
    return { ...started, dir: dir.path, dbPath, url: started.url };
  }

  it('answers 200 with the database check on a healthy server, never cached', async () => {
    const { url } = await server();
    const probe = await readyz(url);
    expect(probe.status).toBe(200);
    expect(probe.body).toEqual({ ok: true, checks: { database: 'ok' } });
    expect(probe.cacheControl).toBe('no-store');
  });

  it('stays 200, at once, while another connection holds the write lock and every send fails on it', async () => {
    const { url, dbPath } = await server();
    const session = await signUp(url, 'alice');
    const socket = await rawClient(url, { token: session.token, protocol: PROTOCOL_VERSION });
    cleanups.push(() => void socket.disconnect());
    const holder = new Database(dbPath);
    cleanups.push(() => {
      holder.close();
    });
    holder.exec('BEGIN IMMEDIATE');
    cleanups.push(() => {
      holder.exec('ROLLBACK');
    });

    const ack = await sendBatch(socket, 'lobby', [{ id: randomUUID(), body: 'hi' }], {
      head: true,
    });
    expect(ack.error?.code).toBe('internal');
    // Every process on the file waits on this same lock: none is a better place to send
    // traffic to, and reads, handshakes and catch-up go on (docs/operations.md, "Readiness").
    const probe = await readyz(url);
    expect(probe.status).toBe(200);
    expect(probe.body.checks.database).toBe('ok');
    expect(probe.ms).toBeLessThan(FAST_MS);
  });

  it('turns 503 when the database file is replaced under the running server, until a restart', async () => {
    const captured = captureLog();
    const started = await server(captured.logger);
    const { url, dbPath, dir } = started;
    expect((await readyz(url)).status).toBe(200);

    // A restore done the wrong way: another file moved in while the server runs. The server
    // would go on writing to the old one, which nothing will ever read again.
    const other = join(dir, 'restored.db');
    openSqlite(other).close();
    renameSync(other, dbPath);

    for (let i = 0; i < 3; i++) {
      const probe = await readyz(url);
      expect(probe.status).toBe(503);
      expect(probe.body).toEqual({
        ok: false,
        reason: `database: the database file ${dbPath} was replaced while open: restart the server`,
        checks: {
          database: `the database file ${dbPath} was replaced while open: restart the server`,
        },
      });
      expect(probe.cacheControl).toBe('no-store');
    }
    expect(await healthzMs(url)).toBeLessThan(FAST_MS);
    // Said once, not once per probe.
    expect(
      captured.messages.filter((line) => line.startsWith('not ready: database:')),
    ).toHaveLength(1);

    await started.stop();
    await started.restart();
    // The first fetch may meet the connection the stopped server closed.
    await waitFor('/readyz to be 200 after the restart', async () => {
      const probe = await readyz(url).catch(() => null);
      return probe?.status === 200;
    });
  });
});

describeWithPostgres('GET /readyz over PostgreSQL', () => {
  const cleanups = cleanupsAfterEach();
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.dispose();
  });

  /** A fresh database, reached through a fault proxy: the URL the server gets, and the proxy. */
  async function proxiedDatabase() {
    const fresh = await freshDatabase();
    cleanups.push(fresh.drop);
    const admin = new URL(POSTGRES_ADMIN_URL);
    const target = { host: admin.hostname, port: Number(admin.port || 5432) };
    const proxy = { current: await FaultProxy.start(target) };
    cleanups.push(() => proxy.current.stop());
    const url = new URL(fresh.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.current.port);
    return { url: url.toString(), proxy, target };
  }

  async function node(env: Record<string, string>): Promise<ServerProcess> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const server = new ServerProcess({ port: 0, dbPath: join(dir.path, 'unused.db'), env });
    servers.push(server);
    await server.start();
    return server;
  }

  it('turns 503 within two seconds when the link to PostgreSQL goes silent or is cut, and 200 when it is back', async () => {
    const { url: databaseUrl, proxy, target } = await proxiedDatabase();
    const server = await node({ FERRY_DATABASE_URL: databaseUrl });
    const url = server.url();
    expect((await readyz(url)).body).toEqual({ ok: true, checks: { database: 'ok' } });

    // Blackholed: connections stay open and nothing comes back (a dead link, a hung server).
    proxy.current.setMode({ kind: 'blackhole' });
    // Probes that come together each answer in time (they share one ping).
    const probes = await Promise.all(Array.from({ length: 5 }, () => readyz(url)));
    console.log(
      `/readyz with PostgreSQL silent: ${probes.map((probe) => probe.ms.toFixed(0)).join(', ')} ms`,
    );
    for (const probe of probes) {
      expect(probe.status).toBe(503);
      expect(probe.body.reason).toBe('database: PostgreSQL did not answer within 1000 ms');
      expect(probe.ms).toBeLessThan(PROBE_WITHIN_MS);
    }
    expect(await healthzMs(url)).toBeLessThan(FAST_MS);

    proxy.current.setMode({ kind: 'pass' });
    await waitFor(
      '/readyz to be 200 again',
      async () => (await readyz(url)).status === 200,
      BACK_WITHIN_MS,
      200,
    );

    // Cut: every connection reset and new ones refused.
    const port = proxy.current.port;
    await proxy.current.stop();
    const refused = await readyz(url);
    console.log(
      `/readyz with PostgreSQL cut: ${refused.status} in ${refused.ms.toFixed(0)} ms (${refused.body.reason})`,
    );
    expect(refused.status).toBe(503);
    expect(refused.body.reason).toMatch(/^database: /);
    expect(refused.ms).toBeLessThan(PROBE_WITHIN_MS);

    proxy.current = await FaultProxy.start(target, { port });
    await waitFor(
      '/readyz to be 200 again',
      async () => (await readyz(url)).status === 200,
      BACK_WITHIN_MS,
      200,
    );
    const said = (text: string) => server.log.filter((line) => line.includes(text)).length;
    expect(said('not ready: database:')).toBe(2);
    expect(said('ready again')).toBe(2);
  });

  describeWithRedis('with Redis (FERRY_REDIS_URL)', () => {
    it('reports the Redis links in the body and stays 200 while Redis is down', async () => {
      const fresh = await freshDatabase();
      cleanups.push(fresh.drop);
      const redis = await RedisProcess.start();
      cleanups.push(() => redis.stop());
      const server = await node({ FERRY_DATABASE_URL: fresh.url, FERRY_REDIS_URL: redis.url });
      const url = server.url();
      const redisSays = async (state: string) => {
        const probe = await readyz(url);
        expect(probe.status).toBe(200);
        return (
          probe.body.checks.redisFanout === state && probe.body.checks.redisRateLimits === state
        );
      };

      await waitFor('both Redis links to be up', () => redisSays('ok'), BACK_WITHIN_MS, 100);
      expect((await readyz(url)).body).toEqual({
        ok: true,
        checks: { database: 'ok', redisFanout: 'ok', redisRateLimits: 'ok' },
      });

      await redis.stop();
      // Ferry serves without Redis (sends stored, local clients live, the others catch up):
      // a 503 on every node at once would turn that into an outage.
      await waitFor('both Redis links to be down', () => redisSays('down'), BACK_WITHIN_MS, 100);
      expect((await readyz(url)).body.ok).toBe(true);

      await redis.start();
      await waitFor('both Redis links to be up again', () => redisSays('ok'), BACK_WITHIN_MS, 100);
    });
  });
});
