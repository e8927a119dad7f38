// Benchmark 9: a reconnect storm. Every client sits on node 1 of 3 (PostgreSQL + Redis),
// each joined to one of the rooms; node 1 is SIGKILLed, a writer on node 2 sends to every
// room meanwhile, and the clients come back on nodes 2 and 3 with Ferry's own backoff
// (storm-client.ts) and catch up. Timed from the kill; the reconnect attempts are counted
// per 100 ms window from it, as the backoff schedules them (the goal: the jitter's spread)
// and as they started and completed here (where 2 shared cores add their own lumps).
import { MAX_WINDOW_BATCHES } from '../src/client/flusher.ts';
import { newMessageId } from '../src/client/ids.ts';
import type { Session } from '../src/shared/protocol.ts';
import { type RawSocket, rawClient } from '../test/support/raw-client.ts';
import type { BenchConfig } from './config.ts';
import { chatBody, uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { signUpMany } from './server-load.ts';
import { type BenchCluster, startCluster } from './servers/cluster.ts';
import { StormClient } from './storm-client.ts';

const NODES = 3;
const WINDOW_MS = 100;
/** Clients connected at once while the storm is set up, so that setting up is no storm. */
const SETUP_CONNECTS_AT_ONCE = 50;
const SETUP_TIMEOUT_MS = 60_000;
/** Far past the 10 s goal: a storm that takes longer is reported, not waited out. */
const STORM_TIMEOUT_MS = 60_000;
const ACK_TIMEOUT_MS = 30_000;
const POLL_MS = 10;

/** The figures of one storm, in ms from the kill or in handshakes per window. */
interface StormSample {
  /** When the writer had every room's messages acked. */
  writtenMs: number;
  backMs: number;
  caughtUpMs: number;
  scheduled: WindowCounts;
  attempts: WindowCounts;
  connects: WindowCounts;
}

/** Events per WINDOW_MS window from the kill, and the same count spread evenly. */
interface WindowCounts {
  perWindow: number[];
  peak: number;
  /** The events over as many windows as from the kill to the last of them. */
  uniform: number;
}

/** Counts `times` (performance.now()) per window from `fromMs`; earlier ones are left out. */
function perWindow(times: readonly number[], fromMs: number): WindowCounts {
  const counts: number[] = [];
  for (const at of times) {
    if (at < fromMs) continue;
    const index = Math.floor((at - fromMs) / WINDOW_MS);
    while (counts.length <= index) counts.push(0);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  return {
    perWindow: counts,
    peak: Math.max(0, ...counts),
    uniform: counts.length === 0 ? Number.NaN : total / counts.length,
  };
}

/** Polls until `done`, or throws what `pending` says is still missing. */
async function until(done: () => boolean, pending: () => string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`after ${timeoutMs} ms: ${pending()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** What the clients not yet done are missing, for a timeout's message. */
function describeLagging(clients: readonly StormClient[], done: (c: StormClient) => boolean) {
  const lagging = clients.filter((client) => !done(client));
  const errors = [...new Set(lagging.map((client) => client.lastError).filter(Boolean))];
  return `${lagging.length} of ${clients.length} clients not done${errors.length ? ` (${errors.slice(0, 3).join('; ')})` : ''}`;
}

/** Connects the clients a group at a time; resolves once every one has joined its room. */
async function connectAll(clients: readonly StormClient[]): Promise<void> {
  for (let start = 0; start < clients.length; start += SETUP_CONNECTS_AT_ONCE) {
    const group = clients.slice(start, start + SETUP_CONNECTS_AT_ONCE);
    for (const client of group) client.start();
    await until(
      () => group.every((client) => client.synced),
      () => describeLagging(group, (client) => client.synced),
      SETUP_TIMEOUT_MS,
    );
  }
}

/**
 * Sends `count` messages to every room, one batch per room, with as many batches in flight
 * as Ferry's client keeps (a socket with more than 64 queued is dropped); answers each
 * room's last seq.
 */
async function writeToRooms(writer: RawSocket, rooms: readonly string[], count: number) {
  const lastSeqs = new Map<string, number>();
  const queue = [...rooms];
  const lane = async () => {
    for (let room = queue.shift(); room !== undefined; room = queue.shift()) {
      const messages = Array.from({ length: count }, (_, n) => ({
        id: newMessageId(),
        body: chatBody(n),
      }));
      const ack = await writer.timeout(ACK_TIMEOUT_MS).emitWithAck('send', { room, messages });
      const last = ack.ok ? ack.results.at(-1) : undefined;
      if (last?.status !== 'accepted') throw new Error(`send refused: ${JSON.stringify(ack)}`);
      lastSeqs.set(room, last.seq);
    }
  };
  await Promise.all(Array.from({ length: MAX_WINDOW_BATCHES }, lane));
  return lastSeqs;
}

/**
 * One storm: the clients connect to node 1 (each with the node list in its own order, so
 * that half move to node 2 and half to node 3), node 1 is killed, the writer fills every
 * room, and the clients' return is timed until every one holds its room's last message.
 */
async function storm(
  cluster: BenchCluster,
  members: readonly Session[],
  writerSession: Session,
  config: BenchConfig['storm'],
): Promise<StormSample> {
  const [first, second, third] = [cluster.url(0), cluster.url(1), cluster.url(2)];
  const rooms = Array.from({ length: config.rooms }, () => uniqueRoom('storm'));
  const clients = Array.from(
    { length: config.clients },
    (_, k) =>
      new StormClient(
        k % 2 === 0 ? [first, second, third] : [first, third, second],
        members[k % members.length] as Session,
        rooms[k % rooms.length] as string,
      ),
  );
  const writer = await rawClient(second, { token: writerSession.token });
  try {
    await connectAll(clients);
    const killedAt = performance.now();
    const killed = cluster.node(0).kill();
    const lastSeqs = await writeToRooms(writer, rooms, config.messagesPerRoom);
    const writtenMs = performance.now() - killedAt;
    await killed;
    const target = (client: StormClient) => lastSeqs.get(client.room) ?? Number.POSITIVE_INFINITY;
    const caughtUp = (client: StormClient) => client.cursor >= target(client);
    await until(
      () => clients.every(caughtUp),
      () => describeLagging(clients, caughtUp),
      STORM_TIMEOUT_MS,
    );
    const latest = (times: (client: StormClient) => number) =>
      Math.max(...clients.map(times)) - killedAt;
    return {
      writtenMs,
      backMs: latest((client) => client.connectsAt.find((at) => at >= killedAt) ?? Number.NaN),
      caughtUpMs: latest((client) => client.reachedAt(target(client)) ?? Number.NaN),
      scheduled: perWindow(
        clients.flatMap((client) => client.scheduledAt),
        killedAt,
      ),
      attempts: perWindow(
        clients.flatMap((client) => client.attemptsAt),
        killedAt,
      ),
      connects: perWindow(
        clients.flatMap((client) => client.connectsAt),
        killedAt,
      ),
    };
  } finally {
    for (const client of clients) client.destroy();
    writer.disconnect();
  }
}

/** Benchmark 9: time to come back and catch up after a node dies, and how the storm spreads. */
export async function benchReconnectStorm(config: BenchConfig): Promise<ReportRow[]> {
  const load = config.storm;
  const cluster = await startCluster({ kind: 'postgres', nodes: NODES });
  try {
    // Signed up on a node that survives; the last session is the writer's.
    const sessions = await signUpMany(cluster.url(1), load.users + 1, 'storm');
    const writer = sessions.pop() as Session;
    const samples: StormSample[] = [];
    const reps = Math.min(config.reps, load.reps);
    for (let rep = 0; rep < reps; rep++) {
      if (rep > 0) await cluster.node(0).start();
      const sample = await storm(cluster, sessions, writer, load);
      console.log(
        `  storm ${rep + 1}: written ${sample.writtenMs.toFixed(0)} ms, back ${sample.backMs.toFixed(0)} ms, caught up ` +
          `${sample.caughtUpMs.toFixed(0)} ms; per ${WINDOW_MS} ms from the kill, attempts ` +
          `scheduled [${sample.scheduled.perWindow.join(' ')}], started ` +
          `[${sample.attempts.perWindow.join(' ')}], handshakes done ` +
          `[${sample.connects.perWindow.join(' ')}]`,
      );
      samples.push(sample);
    }
    const what = `reconnect storm: ${load.clients.toLocaleString('en')} clients of a SIGKILLed node (1 of ${NODES}, PostgreSQL + Redis)`;
    const unit = `per ${WINDOW_MS} ms`;
    return [
      makeRow({
        name: `${what}, back on the other ${NODES - 1} and caught up (${load.messagesPerRoom} msgs missed per room)`,
        unit: 'ms',
        better: 'lower',
        ferry: samples.map((sample) => sample.caughtUpMs),
        goal: { text: '<= 10 s', criteria: [{ figure: 'ferry', op: '<=', value: 10_000 }] },
      }),
      makeRow({
        name: `${what}, back (handshake done)`,
        unit: 'ms',
        better: 'lower',
        ferry: samples.map((sample) => sample.backMs),
      }),
      makeRow({
        name: `${what}, peak reconnect attempts as the backoff schedules them vs the same spread evenly from the kill to the last`,
        unit,
        better: 'lower',
        ferry: samples.map((sample) => sample.scheduled.peak),
        baseline: samples.map((sample) => sample.scheduled.uniform),
        goal: {
          text: '<= 1.5x an even spread',
          criteria: [{ figure: 'ratio', op: '<=', value: 1.5 }],
        },
      }),
      makeRow({
        name: `${what}, peak handshakes done vs the same spread evenly from the kill to the last`,
        unit,
        better: 'lower',
        ferry: samples.map((sample) => sample.connects.peak),
        baseline: samples.map((sample) => sample.connects.uniform),
      }),
    ];
  } finally {
    await cluster.stop();
  }
}
