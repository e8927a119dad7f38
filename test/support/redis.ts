import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { describeWithCommand } from './required-command.ts';
import { freePort } from './server.ts';
import { waitFor } from './wait.ts';

/**
 * `describe` for suites that need `redis-server`: skipped loudly without it, except in CI,
 * where they run and fail.
 */
export const describeWithRedis = describeWithCommand('redis-server', ['--version']);

const BOOT_TIMEOUT_MS = 10_000;
/** How Redis says it is up, e.g. `Ready to accept connections tcp`. */
const READY_LINE = /Ready to accept connections/;
/** Lines of Redis's output kept for a failure report. */
const LOG_LINES_KEPT = 50;

/**
 * A Redis of the test's own, in a child process on a loopback port that stays the same
 * across restarts, keeping nothing on disk: a restart starts from an empty Redis, as a
 * crashed cache without persistence does.
 */
export class RedisProcess {
  readonly port: number;
  readonly #log: string[] = [];
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();

  private constructor(port: number) {
    this.port = port;
  }

  /** A running Redis on a free port. */
  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.start();
    return redis;
  }

  /** FERRY_REDIS_URL for it. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** The last lines Redis printed, for a failure report. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts Redis (again, on the same port) and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('redis-server is already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    // A test run that dies must not leave a Redis behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    // A redis-server that could not be spawned (not installed) says so with 'error', and
    // may never say 'exit'.
    let spawnError: Error | null = null;
    this.#exited = new Promise((resolve) => {
      const gone = () => {
        process.off('exit', killOnExit);
        if (this.#child === child) this.#child = null;
        resolve();
      };
      child.once('exit', gone);
      child.once('error', (error) => {
        spawnError = error;
        gone();
      });
    });
    let ready = false;
    for (const output of [child.stdout, child.stderr]) {
      if (!output) continue;
      createInterface({ input: output }).on('line', (line) => {
        if (READY_LINE.test(line)) ready = true;
        this.#log.push(line);
        if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
      });
    }
    try {
      await waitFor(
        'redis-server to accept connections',
        () => {
          if (spawnError) throw new Error(`redis-server could not start (${spawnError.message})`);
          if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
          return ready;
        },
        BOOT_TIMEOUT_MS,
      );
    } catch (error) {
      child.kill('SIGKILL');
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}:\n${this.#log.join('\n')}`);
    }
  }

  /** Kills Redis (SIGKILL: every connection to it drops at once); resolves once it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** Kills Redis and starts an empty one on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** A suite's own Redis and the test's own connection to look into it. */
export interface SuiteRedis {
  readonly redis: RedisProcess;
  readonly inspector: Redis;
}

/**
 * Starts a Redis for the enclosing suite (call it inside `describeWithRedis`), flushed
 * before each test and started again if a test left it stopped.
 */
export function redisForSuite(): SuiteRedis {
  let redis: RedisProcess | undefined;
  let inspector: Redis | undefined;
  beforeAll(async () => {
    redis = await RedisProcess.start();
    inspector = new Redis(redis.url);
    // It reconnects by itself when a test restarts Redis; each failed attempt is no news.
    inspector.on('error', () => {});
  });
  afterAll(async () => {
    inspector?.disconnect();
    await redis?.stop();
  });
  // A test that failed, or ended, with Redis stopped must not take the next ones down.
  beforeEach(async () => {
    if (redis && !redis.running) await redis.start();
    await inspector?.flushall();
  });
  return {
    get redis() {
      if (!redis) throw new Error('the suite Redis is not started yet');
      return redis;
    },
    get inspector() {
      if (!inspector) throw new Error('the suite Redis is not started yet');
      return inspector;
    },
  };
}
