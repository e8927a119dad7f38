import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The repository root, where `src/server/main.ts` lives. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BOOT_TIMEOUT_MS = 30_000;
/** Lines of server output kept for a failure report. */
const LOG_LINES_KEPT = 200;

export interface ServerProcessOptions {
  port: number;
  dbPath: string;
}

/**
 * The real server (`src/server/main.ts`) as a child process over a SQLite file, so that a
 * crash is a real SIGKILL: no handler runs, nothing is flushed, the kernel resets every
 * socket, and the next process starts from what SQLite made durable.
 */
export class ServerProcess {
  readonly #options: ServerProcessOptions;
  readonly #log: string[] = [];
  #child: ChildProcess | null = null;
  #exited: Promise<unknown> = Promise.resolve();
  /** How many times the server was started. */
  boots = 0;

  constructor(options: ServerProcessOptions) {
    this.#options = options;
    process.once('exit', () => this.#child?.kill('SIGKILL'));
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** The last lines the server printed (all boots), for a failure report. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts the server and resolves once `GET /healthz` answers 200. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('the server is already running');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(this.#options.port),
        HOST: '127.0.0.1',
        FERRY_DB: this.#options.dbPath,
        // Only /healthz and socket.io are needed: no built app.
        FERRY_STATIC_DIR: `${this.#options.dbPath}.no-static`,
        // The chaos suite tests delivery, not the per-user rate limit: resends under faults
        // would spend a sender's budget many times over.
        FERRY_RATE_BURST: '1000000000',
        FERRY_RATE_PER_MINUTE: '1000000000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.boots += 1;
    const boot = this.boots;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.#log.push(`[boot ${boot}] ${line}`);
        if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
    this.#exited = once(child, 'exit');
    child.once('exit', () => {
      if (this.#child === child) this.#child = null;
    });
    await this.#waitHealthy(child);
  }

  /** SIGKILL: the crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM: the graceful stop (closes sockets and the database). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  async #waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const url = `http://127.0.0.1:${this.#options.port}/healthz`;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited while booting:\n${this.#log.slice(-20).join('\n')}`);
      }
      try {
        const response = await fetch(url);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the server did not answer /healthz within ${BOOT_TIMEOUT_MS} ms`);
  }
}
