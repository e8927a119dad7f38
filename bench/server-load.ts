import { newMessageId } from '../src/client/ids.ts';
import { createSession } from '../src/client/session-client.ts';
import type { Session } from '../src/shared/protocol.ts';
import { rawClient } from '../test/support/raw-client.ts';
import { alternate } from './alternate.ts';
import { connectEcho, echoSocket } from './baseline-clients.ts';
import type { BenchConfig } from './config.ts';
import { chatBody, uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { spawnServer } from './servers/spawn.ts';
import { percentile } from './stats.ts';

const ACK_TIMEOUT_MS = 30_000;
const LOAD_TIMEOUT_MS = 120_000;
/** Sign-ups run this many at a time. */
const SIGNUP_CONCURRENCY = 10;

/** One connected client of the load test, whatever the server speaks. */
export interface LoadClient {
  /** Sends message `n` and resolves on its ack (rejects if the server refused it). */
  send(room: string, n: number): Promise<void>;
  /** Messages of others received so far. */
  readonly received: number;
  close(): void;
}

/** The figures of one repetition. */
export interface LoadSample {
  messagesPerSecond: number;
  ackLatenciesMs: number[];
}

/** A raw socket.io client speaking Ferry's protocol, joined to `room`. */
export async function ferryClient(
  url: string,
  session: Session,
  room: string,
): Promise<LoadClient> {
  const socket = await rawClient(url, { token: session.token });
  let received = 0;
  socket.on('messages', (event) => {
    received += event.messages.length;
  });
  const joined = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('join', { room });
  if (!joined.ok) throw new Error(`join refused: ${joined.error.message}`);
  return {
    async send(room, n) {
      const ack = await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('send', { room, messages: [{ id: newMessageId(), body: chatBody(n) }] });
      const result = ack.ok ? ack.results[0] : undefined;
      if (result?.status !== 'accepted') throw new Error(`send refused: ${JSON.stringify(ack)}`);
    },
    get received() {
      return received;
    },
    close: () => socket.disconnect(),
  };
}

async function echoClient(url: string, room: string): Promise<LoadClient> {
  const socket = echoSocket(url);
  await connectEcho(socket);
  let received = 0;
  socket.on('msg', () => {
    received += 1;
  });
  await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('join', room);
  return {
    async send(room, n) {
      await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('msg', { room, id: newMessageId(), body: chatBody(n) });
    },
    get received() {
      return received;
    },
    close: () => socket.disconnect(),
  };
}

/**
 * All clients send `messagesPerClient` each, `inFlight` at a time. Timed from the first send
 * until every ack is back and every client has received every other client's messages.
 */
export async function runLoad(
  clients: LoadClient[],
  room: string,
  config: BenchConfig['server'],
): Promise<LoadSample> {
  const latencies: number[] = [];
  const expected = (clients.length - 1) * config.messagesPerClient;
  const start = performance.now();
  const sender = async (client: LoadClient, lane: number) => {
    for (let n = lane; n < config.messagesPerClient; n += config.inFlightPerClient) {
      const sentAt = performance.now();
      await client.send(room, n);
      latencies.push(performance.now() - sentAt);
    }
  };
  await Promise.all(
    clients.flatMap((client) =>
      Array.from({ length: config.inFlightPerClient }, (_, lane) => sender(client, lane)),
    ),
  );
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  while (clients.some((client) => client.received < expected)) {
    if (Date.now() > deadline) throw new Error('broadcasts did not all arrive');
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1_000;
  return {
    messagesPerSecond: (clients.length * config.messagesPerClient) / seconds,
    ackLatenciesMs: latencies,
  };
}

export async function withClients<S = LoadSample>(
  open: () => Promise<LoadClient[]>,
  run: (clients: LoadClient[]) => Promise<S>,
): Promise<S> {
  const clients = await open();
  try {
    return await run(clients);
  } finally {
    for (const client of clients) client.close();
  }
}

/** Creates `count` users over HTTP, a few at a time. */
export async function signUpMany(url: string, count: number, label: string): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let start = 0; start < count; start += SIGNUP_CONCURRENCY) {
    const size = Math.min(SIGNUP_CONCURRENCY, count - start);
    const batch = await Promise.all(
      Array.from({ length: size }, (_, i) => createSession(url, { name: `${label} ${start + i}` })),
    );
    sessions.push(...batch);
  }
  return sessions;
}

/** Benchmark 4: Ferry's server under a busy room against a bare socket.io echo server. */
export async function benchServerLoad(config: BenchConfig): Promise<ReportRow[]> {
  const load = config.server;
  const ferry = await spawnServer('ferry');
  const echo = await spawnServer('echo');
  try {
    const sessions = await signUpMany(ferry.url, load.clients, 'load');
    const samples = await alternate<'ferry' | 'echo', LoadSample>(config.reps, {
      ferry: () => {
        const room = uniqueRoom('load');
        return withClients(
          () => Promise.all(sessions.map((session) => ferryClient(ferry.url, session, room))),
          (clients) => runLoad(clients, room, load),
        );
      },
      echo: () => {
        const room = uniqueRoom('load');
        return withClients(
          () => Promise.all(sessions.map(() => echoClient(echo.url, room))),
          (clients) => runLoad(clients, room, load),
        );
      },
    });
    const figure = (variant: 'ferry' | 'echo', pick: (sample: LoadSample) => number) =>
      samples[variant].map(pick);
    const p = (q: number) => (sample: LoadSample) => percentile(sample.ackLatenciesMs, q);
    const what = `server: ${load.clients} clients in one room`;
    return [
      makeRow({
        name: `${what}, msgs accepted+committed+broadcast per s, vs bare socket.io echo`,
        unit: 'msg/s',
        better: 'higher',
        ferry: figure('ferry', (sample) => sample.messagesPerSecond),
        baseline: figure('echo', (sample) => sample.messagesPerSecond),
        goal: {
          text: '>= 0.5x the bare echo',
          criteria: [{ figure: 'ratio', op: '>=', value: 0.5 }],
        },
      }),
      makeRow({
        name: `${what}, p50 ack latency, vs bare socket.io echo`,
        unit: 'ms',
        better: 'lower',
        ferry: figure('ferry', p(50)),
        baseline: figure('echo', p(50)),
      }),
      makeRow({
        name: `${what}, p99 ack latency, vs bare socket.io echo`,
        unit: 'ms',
        better: 'lower',
        ferry: figure('ferry', p(99)),
        baseline: figure('echo', p(99)),
      }),
    ];
  } finally {
    await Promise.all([ferry.stop(), echo.stop()]);
  }
}
