import type { Session } from '../src/shared/protocol.ts';
import { rawClient } from '../test/support/raw-client.ts';
import { alternate } from './alternate.ts';
import { connectEcho, echoSocket } from './baseline-clients.ts';
import type { BenchConfig } from './config.ts';
import { uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { signUpMany } from './server-load.ts';
import type { MemorySample } from './servers/protocol.ts';
import { type BenchServer, spawnServer } from './servers/spawn.ts';

const ACK_TIMEOUT_MS = 30_000;
/** Connections opened at once while filling the server. */
const CONNECT_CONCURRENCY = 200;
/** Time for the server to finish with the last handshakes (and, after, with the closes). */
const SETTLE_MS = 150;

interface IdleClient {
  close(): void;
}

/** JS heap plus memory outside it (socket buffers are Buffers: `external`). */
function footprintBytes(sample: MemorySample): number {
  return sample.heapUsedBytes + sample.externalBytes;
}

async function openInChunks(count: number, open: (i: number) => Promise<IdleClient>) {
  const clients: IdleClient[] = [];
  for (let start = 0; start < count; start += CONNECT_CONCURRENCY) {
    const size = Math.min(CONNECT_CONCURRENCY, count - start);
    clients.push(...(await Promise.all(Array.from({ length: size }, (_, i) => open(start + i)))));
  }
  return clients;
}

/**
 * Server memory per connection: `count` clients connect and join one room, and the server's
 * footprint after a full GC is compared with its footprint before (KB per connection).
 */
async function perConnectionKb(
  server: BenchServer,
  count: number,
  open: (i: number, room: string) => Promise<IdleClient>,
): Promise<number> {
  const room = uniqueRoom('idle');
  const before = footprintBytes(await server.memory());
  const clients = await openInChunks(count, (i) => open(i, room));
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = footprintBytes(await server.memory());
    return (after - before) / count / 1024;
  } finally {
    for (const client of clients) client.close();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
}

async function ferryIdle(url: string, session: Session, room: string): Promise<IdleClient> {
  const socket = await rawClient(url, { token: session.token });
  const joined = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('join', { room });
  if (!joined.ok) throw new Error(`join refused: ${joined.error.message}`);
  return { close: () => socket.disconnect() };
}

async function echoIdle(url: string, room: string): Promise<IdleClient> {
  const socket = echoSocket(url);
  await connectEcho(socket);
  await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('join', room);
  return { close: () => socket.disconnect() };
}

/** Benchmark 5: server memory per idle connection, Ferry against bare socket.io. */
export async function benchConnectionMemory(config: BenchConfig): Promise<ReportRow[]> {
  const { connections } = config.memory;
  const ferry = await spawnServer('ferry');
  const echo = await spawnServer('echo');
  try {
    const sessions = await signUpMany(ferry.url, connections, 'idle');
    const samples = await alternate(config.reps, {
      ferry: () =>
        perConnectionKb(ferry, connections, (i, room) =>
          ferryIdle(ferry.url, sessions[i] as Session, room),
        ),
      echo: () => perConnectionKb(echo, connections, (_i, room) => echoIdle(echo.url, room)),
    });
    return [
      makeRow({
        name: `memory per idle connection at ${connections.toLocaleString('en')} connections (heap + external), vs bare socket.io`,
        unit: 'KB',
        better: 'lower',
        ferry: samples.ferry,
        baseline: samples.echo,
        goal: {
          text: '<= 1.2x bare socket.io',
          criteria: [{ figure: 'ratio', op: '<=', value: 1.2 }],
        },
      }),
    ];
  } finally {
    await Promise.all([ferry.stop(), echo.stop()]);
  }
}
