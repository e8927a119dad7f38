import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeAppBuild } from '../support/app-fixture.ts';
import { describeWithCommand } from '../support/required-command.ts';
import { tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';
import { waitFor } from '../support/wait.ts';

/** Descriptors the server may open past those it holds once idle: a few, so it runs out fast. */
const SPARE_DESCRIPTORS = 8;
/** Idle connections opened against that limit: more than enough to use every spare one. */
const IDLE_CONNECTIONS = 40;

interface Answer {
  status: number;
  body: string;
}

/** GET over `agent` (a kept-alive connection when it has one). */
function get(url: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Opens a TCP connection and leaves it idle; resolves once it is open (or refused). */
function idleConnection(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describeWithCommand('prlimit', ['--version'])('a static file that cannot be read', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serverOverApp(): Promise<{ server: ServerProcess; appDir: string }> {
    const dir = tempDir();
    cleanups.push(dir.dispose);
    const appDir = join(dir.path, 'dist');
    writeAppBuild(appDir, 1);
    const server = new ServerProcess({
      port: 0,
      dbPath: join(dir.path, 'ferry.db'),
      staticDir: appDir,
    });
    cleanups.push(() => server.dispose());
    await server.start();
    return { server, appDir };
  }

  it('answers 404 for an asset removed under the running server, which lives on', async () => {
    const { server, appDir } = await serverOverApp();
    rmSync(join(appDir, 'assets'), { recursive: true });
    const answer = await get(`${server.url()}/assets/index-v1.js`);
    expect(answer.status).toBe(404);
    expect((await get(`${server.url()}/healthz`)).status).toBe(200);
    expect(server.running).toBe(true);
  });

  it('answers 503 when out of file descriptors, and serves again once some are free', async () => {
    const { server } = await serverOverApp();
    const pid = server.pid;
    if (pid === undefined) throw new Error('the server has no process id');
    // One kept-alive connection, opened before the limit bites: the request that meets
    // the exhausted table travels on it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    expect((await get(`${server.url()}/healthz`, agent)).status).toBe(200);

    const limit = openDescriptors(pid) + SPARE_DESCRIPTORS;
    execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);
    const idle = await Promise.all(
      Array.from({ length: IDLE_CONNECTIONS }, () => idleConnection(server.port)),
    );
    cleanups.push(() => {
      for (const socket of idle) socket.destroy();
    });
    await waitFor('the server to use every descriptor', () => openDescriptors(pid) >= limit);

    const asked = performance.now();
    const starved = await get(`${server.url()}/assets/index-v1.js`, agent);
    console.log(
      `with every one of its ${limit} descriptors in use, a GET for a script answered ` +
        `${starved.status} in ${(performance.now() - asked).toFixed(1)} ms`,
    );
    expect(starved.status).toBe(503);
    expect(server.running).toBe(true);

    for (const socket of idle) socket.destroy();
    await waitFor('the idle connections to close', () => openDescriptors(pid) < limit - 2);
    const served = await get(`${server.url()}/assets/index-v1.js`, agent);
    expect(served).toEqual({ status: 200, body: "console.log('build 1');\n" });
  });
});
