import { type ChildProcess, type Serializable, spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PortHolder } from './port-holder.ts';
import { waitFor } from './wait.ts';

/** The repository root: scripts and tsx are resolved from here. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `npm start` runs. */
const FERRY_MAIN = 'src/server/main.ts';
const BOOT_TIMEOUT_MS = 30_000;
const HEALTH_POLL_MS = 50;
/** A graceful stop still running after this is finished with SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Lines of server output kept for a failure report (all boots together). */
const LOG_LINES_KEPT = 200;
/** Lines of that log a failed boot quotes. */
const BOOT_FAILURE_LINES = 20;
/**
 * The message budget when a test sets none. Suites about delivery resend under faults, which
 * would spend a sender's budget many times over. (The highest value config.ts accepts.)
 */
const LIFTED_RATE = { burst: 1_000_000_000, perMinute: 1_000_000_000 };
/**
 * FERRY_STATIC_DIR when there is no app to serve: a folder that does not exist. Left unset,
 * main.ts would serve ./dist, whatever build happens to be there.
 */
const NO_APP_DIR = join(tmpdir(), 'ferry-test-serves-no-app');
/** How a server says where it listens, e.g. main.ts's `Ferry listening on http://127.0.0.1:8080 …`. */
const LISTENING_LINE = /listening on \S+:(\d+)/;

/** How one boot of the server ended: its exit code, or the signal that ended it. */
export interface ServerExit {
  boot: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ServerSettings {
  /**
   * Where clients reach the server:
   * - a port number: every boot listens there;
   * - 0: each boot takes a free port and prints it (`port` says which);
   * - `'held'`: this process holds one port for the server's whole life and forwards it to
   *   whichever port each boot took (see PortHolder). A restarted server is then reached
   *   at the same origin, which an open browser tab needs, and no other process can take
   *   the port in between.
   */
  port: number | 'held';
  /** The address to listen on (HOST); 127.0.0.1 by default. */
  host?: string;
  /** The built app to serve (FERRY_STATIC_DIR); without one only the API and socket.io answer. */
  staticDir?: string;
  /** The per-user message budget (FERRY_RATE_BURST, FERRY_RATE_PER_MINUTE); lifted by default. */
  rate?: { burst: number; perMinute: number };
  /** Serves HTTPS (HTTPS=1) with the certificates it generates in this folder (FERRY_TLS_DIR). */
  httpsDir?: string;
  /** More Node flags, e.g. `--expose-gc`. */
  nodeFlags?: string[];
  /** Opens an IPC channel to the script: see `send` and `onMessage`. */
  ipc?: boolean;
  /** Also prints what the server writes on stderr here, as it comes. */
  printStderr?: boolean;
  /** More environment for main.ts, e.g. FERRY_DATABASE_URL. */
  env?: Record<string, string>;
}

export type ServerProcessOptions = ServerSettings &
  (
    | {
        /** `npm start`'s server, over this SQLite file (FERRY_DB), kept across restarts. */
        dbPath: string;
        script?: never;
      }
    | {
        /**
         * Another server script (the benchmarks' own), from the repository root. It gets the
         * same environment and must print a `listening on <host>:<port>` line and answer
         * GET /healthz.
         */
        script: string;
        dbPath?: never;
      }
  );

/**
 * A server in a child process, run with tsx as `npm start` runs it: the one way chaos, e2e
 * and the benchmarks start a server of their own. A crash is a real SIGKILL (no handler
 * runs, nothing is flushed, the kernel resets every socket, and the next boot starts from
 * what SQLite made durable); a stop is SIGTERM, main.ts's graceful stop.
 */
export class ServerProcess {
  readonly #options: ServerProcessOptions;
  readonly #log: string[] = [];
  readonly #messageListeners = new Set<(message: unknown) => void>();
  readonly #exitListeners = new Set<(exit: ServerExit) => void>();
  #staticDir: string | undefined;
  #holder: PortHolder | null = null;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  /** The port the last boot listens on. */
  #listeningPort = 0;
  /** How many times the server was started. */
  boots = 0;

  constructor(options: ServerProcessOptions) {
    this.#options = options;
    this.#staticDir = options.staticDir;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** The port clients connect to (0 before the first boot of a server on port 0). */
  get port(): number {
    const { port } = this.#options;
    if (port === 'held') return this.#holder?.port ?? 0;
    return port === 0 ? this.#listeningPort : port;
  }

  /** The server's origin, by default under the address it listens on. */
  url(host = this.#host): string {
    return this.#origin(host, this.port);
  }

  /** The running server's process id (undefined while stopped). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the server printed, all boots together, for a failure report. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts the server and resolves once it answers `GET /healthz` with 200. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('the server is already running');
    if (this.#options.port === 'held') this.#holder ??= await PortHolder.open();
    const child = this.#spawn();
    const listeningOn = this.#readOutput(child);
    try {
      this.#listeningPort = await this.#waitHealthy(child, listeningOn);
    } catch (error) {
      // The caller gets no running server back, so none may be left running.
      child.kill('SIGKILL');
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}:\n${this.#log.slice(-BOOT_FAILURE_LINES).join('\n')}`);
    }
    this.#holder?.forwardTo(this.#listeningPort);
  }

  /**
   * Stops the server gracefully and starts it again on the same port and database, serving
   * `staticDir` from now on if given: a deploy, as an open tab sees it.
   */
  async restart(change: { staticDir?: string } = {}): Promise<void> {
    if (this.#options.port === 0) {
      throw new Error('a server on port 0 may come back elsewhere: give it a port, or "held"');
    }
    await this.stop();
    this.#staticDir = change.staticDir ?? this.#staticDir;
    await this.start();
  }

  /** SIGKILL: the crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM: the graceful stop (closes sockets and the database), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Stops the server and lets a held port go. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.#holder?.close();
    this.#holder = null;
  }

  /** Sends a message to the script over IPC (`ipc: true`). */
  send(message: Serializable): void {
    if (!this.#child?.send) throw new Error('no IPC channel: start the server with `ipc: true`');
    this.#child.send(message);
  }

  /**
   * Calls `listener` each time a boot of the server exits, whoever ended it (a crash, a
   * kill, a stop); returns the disposer.
   */
  onExit(listener: (exit: ServerExit) => void): () => void {
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /** Calls `listener` with every IPC message from the script; returns the disposer. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  #spawn(): ChildProcess {
    const { nodeFlags = [], ipc = false } = this.#options;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', ...nodeFlags, this.#options.script ?? FERRY_MAIN],
      {
        cwd: REPO_ROOT,
        env: this.#environment(),
        stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      },
    );
    this.boots += 1;
    const boot = this.boots;
    this.#child = child;
    // A test run that dies must not leave a server behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        process.off('exit', killOnExit);
        if (this.#child === child) this.#child = null;
        for (const listener of this.#exitListeners) listener({ boot, code, signal });
        resolve();
      });
    });
    if (ipc) {
      child.on('message', (message) => {
        for (const listener of this.#messageListeners) listener(message);
      });
    }
    return child;
  }

  /** Keeps the child's last lines in `log`; answers the port it said it listens on, if it did. */
  #readOutput(child: ChildProcess): () => number | null {
    let listeningOn: number | null = null;
    const boot = this.boots;
    const keep = (line: string, fromStderr: boolean) => {
      if (line.trim() === '') return;
      const listening = LISTENING_LINE.exec(line);
      if (listening && !fromStderr) listeningOn = Number(listening[1]);
      if (fromStderr && this.#options.printStderr) console.error(line);
      this.#log.push(`[boot ${boot}] ${line}`);
      if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
    };
    // Whole lines: a port number split across two chunks would otherwise be misread.
    if (child.stdout)
      createInterface({ input: child.stdout }).on('line', (line) => keep(line, false));
    if (child.stderr)
      createInterface({ input: child.stderr }).on('line', (line) => keep(line, true));
    return () => listeningOn;
  }

  /** Resolves with the port the child answers `GET /healthz` on; rejects if it exits first. */
  async #waitHealthy(child: ChildProcess, listeningOn: () => number | null): Promise<number> {
    const { port } = this.#options;
    // On a port of its own choosing, the server is asked where it said it listens: an
    // answer on a guessed port could come from another process.
    const fixedPort = typeof port === 'number' && port !== 0 ? port : null;
    const healthy = { port: 0 };
    await waitFor(
      'the server to answer /healthz',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `the server exited while booting (${child.exitCode ?? child.signalCode})`,
          );
        }
        const probed = fixedPort ?? listeningOn();
        if (probed === null) return false;
        if ((await healthStatus(`${this.#origin(this.#host, probed)}/healthz`)) !== 200)
          return false;
        healthy.port = probed;
        return true;
      },
      BOOT_TIMEOUT_MS,
      HEALTH_POLL_MS,
    );
    return healthy.port;
  }

  #origin(host: string, port: number): string {
    return `${this.#options.httpsDir ? 'https' : 'http'}://${host}:${port}`;
  }

  get #host(): string {
    return this.#options.host ?? '127.0.0.1';
  }

  /** main.ts's settings (see src/server/config.ts), on top of this process's environment. */
  #environment(): NodeJS.ProcessEnv {
    const { port, dbPath, rate = LIFTED_RATE, httpsDir } = this.#options;
    return {
      ...process.env,
      // On port 0 or behind the holder, the server takes any free port and says which.
      PORT: String(port === 'held' ? 0 : port),
      HOST: this.#host,
      ...(dbPath ? { FERRY_DB: dbPath } : {}),
      FERRY_STATIC_DIR: this.#staticDir ?? NO_APP_DIR,
      FERRY_RATE_BURST: String(rate.burst),
      FERRY_RATE_PER_MINUTE: String(rate.perMinute),
      ...(httpsDir ? { HTTPS: '1', FERRY_TLS_DIR: httpsDir } : {}),
      ...this.#options.env,
    };
  }
}

/**
 * GET's status, or 0 while nothing answers. Over HTTPS the certificate is not checked: the
 * test's own server has only just made it.
 */
function healthStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = url.startsWith('https:')
      ? httpsGet(url, { rejectUnauthorized: false })
      : httpGet(url);
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
  });
}
