import type { StoredMessage } from '../../src/shared/protocol.ts';

/** Heap figures of a server process, taken right after a full GC. */
export interface MemorySample {
  heapUsedBytes: number;
  externalBytes: number;
  rssBytes: number;
}

/** Parent -> server process. Every request carries an id its reply repeats. */
export type ServerRequest =
  | { type: 'memory'; id: number }
  | { type: 'cpu'; id: number }
  | { type: 'seed'; id: number; room: string; count: number };

/** Server process -> parent, each the answer to the request with its id. */
export type ServerReply =
  | { type: 'memory'; id: number; sample: MemorySample }
  /** CPU time the process has used so far (user + system), in microseconds. */
  | { type: 'cpu'; id: number; micros: number }
  | { type: 'seeded'; id: number; messages: StoredMessage[] }
  | { type: 'error'; id: number; message: string };

/** Answers `memory` requests from the parent; the process must run with --expose-gc. */
export function memorySample(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the server process needs --expose-gc');
  // Two passes: the first can leave garbage that only a second collection frees.
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heapUsedBytes: usage.heapUsed, externalBytes: usage.external, rssBytes: usage.rss };
}

/** Answers `cpu` requests: the process's CPU time so far, user and system, in µs. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Sends a reply to the parent over the IPC channel. */
function reply(message: ServerReply): void {
  process.send?.(message);
}

/** Runs `handle` for every request from the parent, replying `error` when it throws. */
export function serveRequests(
  handle: (request: ServerRequest) => Promise<ServerReply> | ServerReply,
): void {
  process.on('message', (raw) => {
    const request = raw as ServerRequest;
    Promise.resolve()
      .then(() => handle(request))
      .then(reply, (error: unknown) =>
        reply({
          type: 'error',
          id: request.id,
          message: error instanceof Error ? error.message : String(error),
        }),
      );
  });
  // The parent going away (crash, Ctrl-C) must not leave the server running.
  process.on('disconnect', () => process.exit(0));
}
