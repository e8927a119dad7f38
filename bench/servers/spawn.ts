import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StoredMessage } from '../../src/shared/protocol.ts';
import type { MemorySample, ServerReply, ServerRequest } from './protocol.ts';

const SCRIPTS = {
  ferry: fileURLToPath(new URL('./ferry-process.ts', import.meta.url)),
  echo: fileURLToPath(new URL('./echo-process.ts', import.meta.url)),
} as const;

export type ServerKind = keyof typeof SCRIPTS;

const READY_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 5_000;

/** A server in a child process: the bench's clients and the server each get a core. */
export interface ServerProcess {
  kind: ServerKind;
  port: number;
  url: string;
  pid: number;
  memory(): Promise<MemorySample>;
  /** Ferry only: appends `count` messages to `room` behind the server's back. */
  seed(room: string, count: number): Promise<StoredMessage[]>;
  stop(): Promise<void>;
}

type RequestBody = { type: 'memory' } | { type: 'seed'; room: string; count: number };

/** Starts a Ferry or a bare echo server on 127.0.0.1 in a child process. */
export async function spawnServer(
  kind: ServerKind,
  options: { staticDir?: string } = {},
): Promise<ServerProcess> {
  // BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of every server process (on exit).
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = fork(SCRIPTS[kind], [], {
    execArgv: ['--import', 'tsx', '--expose-gc', ...profile],
    env: { ...process.env, FERRY_STATIC_DIR: options.staticDir ?? '' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (message: ServerReply) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${kind} server did not start`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code) => reject(new Error(`${kind} server exited early (${code})`)));
    child.on('message', (raw) => {
      const message = raw as ServerReply;
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.port);
        return;
      }
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    });
  });

  const request = (body: RequestBody): Promise<ServerReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${kind} server did not answer ${body.type}`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, (message) => {
        clearTimeout(timer);
        if (message.type === 'error') reject(new Error(message.message));
        else resolve(message);
      });
      child.send({ ...body, id } satisfies ServerRequest);
    });

  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async memory() {
      const answer = await request({ type: 'memory' });
      if (answer.type !== 'memory') throw new Error(`unexpected ${answer.type}`);
      return answer.sample;
    },
    async seed(room, count) {
      const answer = await request({ type: 'seed', room, count });
      if (answer.type !== 'seeded') throw new Error(`unexpected ${answer.type}`);
      return answer.messages;
    },
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
