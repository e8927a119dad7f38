import { fileURLToPath } from 'node:url';
import type { StoredMessage } from '../../src/shared/protocol.ts';
import { ServerProcess } from '../../test/support/server-process.ts';
import type { MemorySample, ServerReply, ServerRequest } from './protocol.ts';

const SCRIPTS = {
  ferry: fileURLToPath(new URL('./ferry-process.ts', import.meta.url)),
  echo: fileURLToPath(new URL('./echo-process.ts', import.meta.url)),
} as const;

export type ServerKind = keyof typeof SCRIPTS;

const REQUEST_TIMEOUT_MS = 60_000;

/** A server in a child process: the bench's clients and the server each get a core. */
export interface BenchServer {
  port: number;
  url: string;
  memory(): Promise<MemorySample>;
  /** The server process's CPU time so far (user + system), in microseconds. */
  cpuMicros(): Promise<number>;
  /** Ferry only: appends `count` messages to `room` behind the server's back. */
  seed(room: string, count: number): Promise<StoredMessage[]>;
  stop(): Promise<void>;
}

type RequestBody =
  | { type: 'memory' }
  | { type: 'cpu' }
  | { type: 'seed'; room: string; count: number };

/**
 * Starts a Ferry or a bare echo server on 127.0.0.1 in a child process (test/support's
 * ServerProcess, which the tests use too), and talks to it over IPC for what only the
 * process itself can do: measure its heap, seed its store.
 */
export async function spawnServer(
  kind: ServerKind,
  options: { staticDir?: string; env?: Record<string, string> } = {},
): Promise<BenchServer> {
  // BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of every server process (on exit).
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = new ServerProcess({
    port: 0,
    script: SCRIPTS[kind],
    staticDir: options.staticDir,
    nodeFlags: ['--expose-gc', ...profile],
    ipc: true,
    printStderr: true,
    env: options.env,
  });
  await server.start();

  const pending = new Map<number, (message: ServerReply) => void>();
  let nextId = 1;
  server.onMessage((raw) => {
    const message = raw as ServerReply;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
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
      server.send({ ...body, id } satisfies ServerRequest);
    });

  return {
    port: server.port,
    url: server.url(),
    async memory() {
      const answer = await request({ type: 'memory' });
      if (answer.type !== 'memory') throw new Error(`unexpected ${answer.type}`);
      return answer.sample;
    },
    async cpuMicros() {
      const answer = await request({ type: 'cpu' });
      if (answer.type !== 'cpu') throw new Error(`unexpected ${answer.type}`);
      return answer.micros;
    },
    async seed(room, count) {
      const answer = await request({ type: 'seed', room, count });
      if (answer.type !== 'seeded') throw new Error(`unexpected ${answer.type}`);
      return answer.messages;
    },
    stop: () => server.stop(),
  };
}
