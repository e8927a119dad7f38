import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { REPO_ROOT } from './app-build.ts';
import { PortHolder } from './port-holder.ts';

const BOOT_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 100;

export interface AppServerOptions {
  /** The SQLite file; kept across restarts. */
  dbPath: string;
  /** The built app to serve (see buildApp). */
  staticDir: string;
  /** Per-user message budget; generous unless a test needs the limit. */
  rate?: { burst: number; perMinute: number };
  /** `HTTPS=1`, with the generated certificates in this folder. */
  httpsDir?: string;
  /** The address to listen on; 127.0.0.1 unless a test needs another. */
  host?: string;
  /**
   * The server will be restarted: its loopback port is then held by the test for the
   * whole file (see PortHolder), so the restarted server is reached at the same origin.
   */
  restartable?: boolean;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The real server, as `npm start` runs it (`src/server/main.ts`), in a child process. A
 * restartable one can be restarted on the same origin and database with another build,
 * which is how a deploy of a new version looks to an open tab.
 */
export class AppServer {
  readonly port: number;
  readonly #options: AppServerOptions;
  readonly #holder: PortHolder | null;
  readonly #log: string[] = [];
  #child: ChildProcess | null = null;

  private constructor(port: number, options: AppServerOptions, holder: PortHolder | null) {
    this.port = port;
    this.#options = options;
    this.#holder = holder;
  }

  static async start(options: AppServerOptions): Promise<AppServer> {
    const holder = options.restartable ? await PortHolder.open() : null;
    const server = new AppServer(holder?.port ?? (await freePort()), options, holder);
    await server.#boot(options.staticDir);
    return server;
  }

  /** The app's address, by default under the address it listens on. */
  url(host = this.#options.host ?? '127.0.0.1'): string {
    return `${this.#options.httpsDir ? 'https' : 'http'}://${host}:${this.port}`;
  }

  /** What the server printed, for a failure report. */
  get log(): string {
    return this.#log.join('\n');
  }

  /** Stops the server and starts it again, serving `staticDir`, over the same database. */
  async restart(staticDir = this.#options.staticDir): Promise<void> {
    if (!this.#holder) throw new Error('start the server with `restartable: true` to restart it');
    await this.stop();
    await this.#boot(staticDir);
  }

  /** SIGTERM: closes sockets and the database. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Stops the server and lets its port go. */
  async dispose(): Promise<void> {
    await this.stop();
    await this.#holder?.close();
  }

  async #boot(staticDir: string): Promise<void> {
    const rate = this.#options.rate ?? { burst: 1_000_000, perMinute: 1_000_000 };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        // Behind the holder, the server takes any free port and says which.
        PORT: this.#holder ? '0' : String(this.port),
        HOST: this.#options.host ?? '127.0.0.1',
        ...(this.#options.httpsDir ? { HTTPS: '1', FERRY_TLS_DIR: this.#options.httpsDir } : {}),
        FERRY_DB: this.#options.dbPath,
        FERRY_STATIC_DIR: staticDir,
        FERRY_RATE_BURST: String(rate.burst),
        FERRY_RATE_PER_MINUTE: String(rate.perMinute),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let listeningOn: number | null = null;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        const listening = /^Ferry listening on \S+:(\d+)/.exec(line);
        if (listening) listeningOn = Number(listening[1]);
        this.#log.push(line);
        if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
    // A test that dies must not leave a server behind.
    process.once('exit', () => child.kill('SIGKILL'));
    const port = await this.#waitHealthy(child, () => listeningOn);
    this.#holder?.forwardTo(port);
  }

  /**
   * Resolves with the port once this child says it listens and /healthz answers there: an
   * answer alone could come from another process on that port.
   */
  async #waitHealthy(child: ChildProcess, listeningOn: () => number | null): Promise<number> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    const scheme = this.#options.httpsDir ? 'https' : 'http';
    const host = this.#options.host ?? '127.0.0.1';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited while booting:\n${this.log}`);
      }
      const port = listeningOn();
      if (port !== null && (await healthStatus(`${scheme}://${host}:${port}/healthz`)) === 200) {
        return port;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `the server did not answer /healthz within ${BOOT_TIMEOUT_MS} ms:\n${this.log}`,
    );
  }
}

/**
 * GET's status, or 0 while nothing answers. Over HTTPS the certificate is not checked:
 * the test's own server has only just made it.
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
