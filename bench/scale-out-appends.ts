// Benchmark 8: appends per second as Ferry scales out. Real socket.io clients speaking
// Ferry's protocol keep one-message batches in flight against 1 node over SQLite (the
// baseline), 1 node over PostgreSQL, and 3 nodes over PostgreSQL with the Redis fan-out;
// the figure is the acks of accepted messages per second over a window after a warm-up.
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Session } from '../src/shared/protocol.ts';
import { alternate } from './alternate.ts';
import type { BenchConfig } from './config.ts';
import { uniqueRoom } from './devices.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { ferryClient, type LoadClient, signUpMany } from './server-load.ts';
import { type BenchCluster, type ClusterStore, startCluster } from './servers/cluster.ts';

type Variant = 'sqlite' | 'postgres1' | 'postgres3';

const STORES: Record<Variant, ClusterStore> = {
  sqlite: { kind: 'sqlite' },
  postgres1: { kind: 'postgres', nodes: 1 },
  postgres3: { kind: 'postgres', nodes: 3 },
};

/** Appends per second, one figure per placement of the clients. */
interface AppendsSample {
  hotRoom: number;
  rooms: number;
}

interface Placement {
  rooms: number;
  clientsPerRoom: number;
}

/** A running cluster and the users its clients sign in as. */
interface Target {
  cluster: BenchCluster;
  sessions: Session[];
}

/**
 * Connects `rooms × clientsPerRoom` clients, spread over the nodes in turn (as a
 * least-connections load balancer would), each sending to its room with
 * `inFlightPerClient` batches in flight; counts the acks of accepted messages that arrive
 * within the window that follows the warm-up.
 */
async function appendsPerSecond(
  target: Target,
  placement: Placement,
  config: BenchConfig['appends'],
): Promise<number> {
  const { cluster, sessions } = target;
  const rooms = Array.from({ length: placement.rooms }, () => uniqueRoom('appends'));
  const clients = await Promise.all(
    Array.from({ length: placement.rooms * placement.clientsPerRoom }, async (_, k) => {
      const room = rooms[k % rooms.length] as string;
      const session = sessions[k % sessions.length] as Session;
      return {
        room,
        client: await ferryClient(cluster.url(k % cluster.nodes.length), session, room),
      };
    }),
  );
  let running = true;
  let acked = 0;
  let failure: Error | null = null;
  const lane = async (client: LoadClient, room: string, first: number) => {
    for (let n = first; running; n += config.inFlightPerClient) {
      await client.send(room, n);
      acked += 1;
    }
  };
  // A refused batch stops every lane; the error is thrown once the window is over.
  const lanes = clients.flatMap(({ client, room }) =>
    Array.from({ length: config.inFlightPerClient }, (_, first) =>
      lane(client, room, first).catch((error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
        running = false;
      }),
    ),
  );
  try {
    await sleep(config.warmUpMs);
    const ackedBefore = acked;
    const start = performance.now();
    await sleep(config.windowMs);
    const perSecond = ((acked - ackedBefore) * 1_000) / (performance.now() - start);
    running = false;
    await Promise.all(lanes);
    if (failure) throw failure;
    return perSecond;
  } finally {
    running = false;
    for (const { client } of clients) client.close();
  }
}

/** Starts every cluster at once; if one fails, those that did start are stopped. */
async function startAll(): Promise<Record<Variant, BenchCluster>> {
  const variants = Object.keys(STORES) as Variant[];
  const started = await Promise.allSettled(
    variants.map((variant) => startCluster(STORES[variant])),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(
      started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)),
    );
    throw failed.reason;
  }
  return Object.fromEntries(
    variants.map((variant, i) => {
      const result = started[i] as PromiseFulfilledResult<BenchCluster>;
      return [variant, result.value];
    }),
  ) as Record<Variant, BenchCluster>;
}

/** Benchmark 8: appends/s on 1 and 3 PostgreSQL nodes against 1 SQLite node. */
export async function benchScaleOutAppends(config: BenchConfig): Promise<ReportRow[]> {
  const load = config.appends;
  const cores = availableParallelism();
  console.log(
    `  note: ${cores} cores: the 3 nodes, PostgreSQL, Redis and the clients share them, so ` +
      '3 nodes against 1 measures the overhead of scaling out, not its gain',
  );
  const clusters = await startAll();
  try {
    const targets = {} as Record<Variant, Target>;
    for (const [variant, cluster] of Object.entries(clusters) as [Variant, BenchCluster][]) {
      targets[variant] = {
        cluster,
        sessions: await signUpMany(cluster.url(0), load.users, 'appends'),
      };
    }
    const hot: Placement = { rooms: 1, clientsPerRoom: load.hotRoomClients };
    const spread: Placement = { rooms: load.rooms, clientsPerRoom: load.clientsPerRoom };
    const measure = (variant: Variant) => async (): Promise<AppendsSample> => ({
      hotRoom: await appendsPerSecond(targets[variant], hot, load),
      rooms: await appendsPerSecond(targets[variant], spread, load),
    });
    const samples = await alternate<Variant, AppendsSample>(Math.min(config.reps, load.reps), {
      sqlite: measure('sqlite'),
      postgres1: measure('postgres1'),
      postgres3: measure('postgres3'),
    });
    const placements = [
      ['hotRoom', `1 hot room of ${hot.clientsPerRoom} clients`],
      ['rooms', `${spread.rooms} rooms of ${spread.clientsPerRoom} clients`],
    ] as const;
    return placements.flatMap(([key, where]) =>
      (['postgres1', 'postgres3'] as const).map((variant) =>
        makeRow({
          name:
            `scale-out: appends acked per s, ${where}, ${clusters[variant].description}` +
            `${variant === 'postgres3' ? ` on ${cores} cores` : ''} vs SQLite, 1 node`,
          unit: 'msg/s',
          better: 'higher',
          ferry: samples[variant].map((sample) => sample[key]),
          baseline: samples.sqlite.map((sample) => sample[key]),
        }),
      ),
    );
  } finally {
    await Promise.all(Object.values(clusters).map((cluster) => cluster.stop()));
  }
}
