import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: main.ts and tsx are resolved from here, as `npm start` does. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What `npm start` runs. */
const FERRY_MAIN = 'src/server/main.ts';
const HEALTH_POLL_MS = 100;
/** A node that takes longer than this to answer one /healthz is not ready. */
const HEALTH_REQUEST_MS = 1_000;
/** How main.ts says where it listens: `Ferry listening on http://localhost:8080 (…)`. */
const LISTENING_LINE = /listening on \S+:(\d+)/;

/** How a node's process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ClusterNodeSettings {
  /** Its number in the cluster, from 1: the `[node k]` on its lines. */
  index: number;
  port: number;
  /** Where its /healthz is asked (see options.ts › probeUrl). */
  probeUrl: string;
  /** main.ts's whole environment, PORT included. */
  env: NodeJS.ProcessEnv;
}

/**
 * One Ferry process of the cluster, run as `npm start` runs it (tsx over main.ts), its
 * output passed through line by line under `[node k]`. Never restarted: a node that dies
 * stays dead, which is the point of trying failover by hand.
 */
export class ClusterNode {
  readonly index: number;
  readonly port: number;
  /** Resolves once the process is gone, however it ended. */
  readonly exited: Promise<NodeExit>;
  readonly #probeUrl: string;
  readonly #child: ChildProcess;
  #exit: NodeExit | null = null;
  #saidListening = false;

  constructor(settings: ClusterNodeSettings) {
    this.index = settings.index;
    this.port = settings.port;
    this.#probeUrl = settings.probeUrl;
    this.#child = spawn(process.execPath, ['--import', 'tsx', FERRY_MAIN], {
      cwd: REPO_ROOT,
      env: settings.env,
      // stdin stays ours: Ctrl-C reaches the nodes as a signal, not as input.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    this.#passOutput();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === null;
  }

  /** What its lines start with. */
  get prefix(): string {
    return `[node ${this.index}]`;
  }

  /**
   * Resolves once the node has said it listens on its port and answers `GET /healthz` with
   * 200; rejects if it exits first or takes longer than `timeoutMs`. Both are needed: on a
   * port another server already holds, /healthz could answer for a node that never started.
   */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exit)
        throw new Error(`node ${this.index} exited while starting (${describeExit(this.#exit)})`);
      if (this.#saidListening && (await this.#healthy())) return;
      if (Date.now() > deadline) {
        throw new Error(
          `node ${this.index} did not answer ${this.#probeUrl}/healthz within ${timeoutMs / 1_000} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
  }

  /** SIGTERM, main.ts's graceful stop; SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL, at once. */
  kill(): void {
    if (this.running) this.#child.kill('SIGKILL');
  }

  async #healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.#probeUrl}/healthz`, {
        signal: AbortSignal.timeout(HEALTH_REQUEST_MS),
      });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** Whole lines only, so that two nodes' output never interleaves within a line. */
  #passOutput(): void {
    const { stdout, stderr } = this.#child;
    if (stdout) {
      createInterface({ input: stdout }).on('line', (line) => {
        if (Number(LISTENING_LINE.exec(line)?.[1]) === this.port) this.#saidListening = true;
        process.stdout.write(`${this.prefix} ${line}\n`);
      });
    }
    if (stderr) {
      createInterface({ input: stderr }).on('line', (line) => {
        process.stderr.write(`${this.prefix} ${line}\n`);
      });
    }
  }
}

/** `code 1`, `SIGKILL`: how a process ended, for a person. */
export function describeExit({ code, signal }: NodeExit): string {
  return signal ?? `code ${code}`;
}
