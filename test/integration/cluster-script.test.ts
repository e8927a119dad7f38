import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newMessageId } from '../../src/client/ids.ts';
import type { MessagesEvent } from '../../src/shared/protocol.ts';
import { describeWithPostgres, type FreshDatabase, freshDatabase } from '../support/postgres.ts';
import { emitRaw, type RawSocket, rawClient, sendBatch, signUp } from '../support/raw-client.ts';
import { describeWithRedis, RedisProcess } from '../support/redis.ts';
import { freePort } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODES = 2;
/** Two tsx boots side by side on a busy 2-core CI machine. */
const READY_WITHIN_MS = 20_000;
const LIVE_WITHIN_MS = 2_000;
/** The script's SIGKILL comes 5 s after its SIGTERM; a graceful stop takes far less. */
const STOPPED_WITHIN_MS = 8_000;
/** Nothing to serve but the API: the test needs no build (see server-process.ts). */
const NO_APP_DIR = join(tmpdir(), 'ferry-test-serves-no-app');
/** How the script lists a node once every node is up: `  node 2: http://127.0.0.1:8081 (pid 123)`. */
const NODE_LINE = /node (\d+): (http:\/\/\S+) \(pid (\d+)\)/;

/** A port from which `count` consecutive ports are free on 127.0.0.1. */
async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await freePort();
    const rest = Array.from({ length: count - 1 }, (_, i) => first + i + 1);
    if ((await Promise.all(rest.map(isFree))).every(Boolean)) return first;
  }
  throw new Error(`found no ${count} consecutive free ports`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Whether anything answers HTTP on `url` (a refused connection is `false`). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm run cluster`'s script in a child process, as a person runs it, minus the build. */
class ClusterScript {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;

  constructor(args: string[], env: Record<string, string>) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    for (const output of [this.#child.stdout, this.#child.stderr]) {
      if (output) createInterface({ input: output }).on('line', (line) => this.lines.push(line));
    }
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The nodes the script listed as up, by number. */
  get nodes(): { index: number; url: string; pid: number }[] {
    return this.lines.flatMap((line) => {
      const match = NODE_LINE.exec(line);
      return match ? [{ index: Number(match[1]), url: match[2] ?? '', pid: Number(match[3]) }] : [];
    });
  }

  /** Waits for a line matching `pattern`; fails with everything the script printed so far. */
  async waitForLine(what: string, pattern: RegExp, timeoutMs: number): Promise<void> {
    try {
      await waitFor(
        what,
        () => {
          if (!this.running) throw new Error(`the script exited (${this.#child.exitCode})`);
          return this.lines.some((line) => pattern.test(line));
        },
        timeoutMs,
        50,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}; the script printed:\n${this.lines.join('\n')}`);
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }
}

/**
 * `npm run cluster` (scripts/cluster.ts): N `npm start` processes on consecutive ports over
 * one PostgreSQL database and one Redis, started and stopped as one.
 */
describeWithPostgres('npm run cluster', () => {
  describeWithRedis('with --nodes 2, over a fresh database and a Redis of its own', () => {
    let database: FreshDatabase | undefined;
    let redis: RedisProcess | undefined;
    let script: ClusterScript;
    let firstPort = 0;
    const sockets: RawSocket[] = [];

    beforeAll(async () => {
      [database, redis, firstPort] = await Promise.all([
        freshDatabase(),
        RedisProcess.start(),
        consecutiveFreePorts(NODES),
      ]);
      script = new ClusterScript(['--nodes', String(NODES)], {
        PORT: String(firstPort),
        HOST: '127.0.0.1',
        FERRY_DATABASE_URL: database.url,
        FERRY_REDIS_URL: redis.url,
        FERRY_STATIC_DIR: NO_APP_DIR,
        HTTPS: '',
      });
      await script.waitForLine(
        'the script to list the nodes as up',
        /Ctrl-C stops/,
        READY_WITHIN_MS,
      );
    });
    afterAll(async () => {
      for (const socket of sockets) socket.close();
      // A failed test must not leave the script or its nodes behind.
      if (script?.running) script.signal('SIGKILL');
      for (const { pid } of script?.nodes ?? []) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await redis?.stop();
      await database?.drop();
    });

    it('lists node k as up on PORT + k - 1, and each answers /healthz', async () => {
      expect(script.nodes).toEqual([
        { index: 1, url: `http://127.0.0.1:${firstPort}`, pid: expect.any(Number) },
        { index: 2, url: `http://127.0.0.1:${firstPort + 1}`, pid: expect.any(Number) },
      ]);
      for (const node of script.nodes) {
        const response = await fetch(`${node.url}/healthz`);
        expect(response.status, node.url).toBe(200);
      }
    });

    it("prefixes each node's output with its number", () => {
      for (const { index, url } of script.nodes) {
        expect(script.lines).toContainEqual(expect.stringMatching(`^\\[node ${index}\\] .*${url}`));
      }
    });

    it('delivers a message sent to node 1 to a client of node 2 live', async () => {
      const [one, two] = script.nodes.map((node) => node.url);
      if (!one || !two) throw new Error('two nodes expected');
      await script.waitForLine('node 1 to reach Redis', /^\[node 1\] .*: connected/, 5_000);
      await script.waitForLine('node 2 to reach Redis', /^\[node 2\] .*: connected/, 5_000);
      const room = 'cluster-trial';
      const alice = await rawClient(one, { token: (await signUp(one, 'alice')).token });
      const bob = await rawClient(two, { token: (await signUp(two, 'bob')).token });
      sockets.push(alice, bob);
      for (const socket of [alice, bob]) {
        expect(await emitRaw(socket, 'join', { room })).toMatchObject({ ok: true });
      }
      const seenByBob: string[] = [];
      bob.on('messages', (event: MessagesEvent) => {
        seenByBob.push(...event.messages.map((message) => message.body));
      });

      const ack = await sendBatch(alice, room, [{ id: newMessageId(), body: 'hello from node 1' }]);
      expect(ack).toMatchObject({ ok: true, results: [{ status: 'accepted' }] });
      await waitFor('bob on node 2 to get it live', () => seenByBob.length > 0, LIVE_WITHIN_MS);
      expect(seenByBob).toEqual(['hello from node 1']);
    });

    it('stops every node gracefully on SIGTERM, then exits 0', async () => {
      const nodes = script.nodes;
      script.signal('SIGTERM');
      const code = await Promise.race([
        script.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), STOPPED_WITHIN_MS)),
      ]);
      expect(code).toBe(0);
      for (const node of nodes) {
        // SIGTERM, main.ts's graceful stop, not the SIGKILL that follows a hung one. Each
        // node's lines are JSON (docs/operations.md, "Logs"): its `msg` says it.
        const stopping = script.lines.filter(
          (line) => line.startsWith(`[node ${node.index}] {`) && line.includes('SIGTERM'),
        );
        expect(stopping, `node ${node.index}'s lines`).not.toEqual([]);
        expect(isAlive(node.pid), `node ${node.index}'s process`).toBe(false);
        expect(await answers(node.url), node.url).toBe(false);
      }
    });
  });
});
