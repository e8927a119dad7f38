// Ferry as `npm start` runs it (src/server/main.ts, one process per node), for the scale-out
// benchmarks: one node over SQLite on disk, or N nodes over a fresh PostgreSQL database with
// a Redis of the run's own for the fan-out, as `npm run cluster` starts them
// (scripts/cluster.ts), each on a free port instead of consecutive ones.
import { join } from 'node:path';
import { tempDir } from '../../test/support/server.ts';
import { ServerProcess } from '../../test/support/server-process.ts';

/** What test/support/server-process.ts runs for `npm start`. */
const FERRY_MAIN = 'src/server/main.ts';
/** The highest value src/server/config.ts accepts for a rate or a cap. */
const LIFTED = '1000000000';

/**
 * main.ts's budgets, lifted: the clients all come from 127.0.0.1 and a few users stand for
 * many (every sign-up past 20 per address is refused, and main.ts has no setting for that),
 * so each user has dozens of sockets, joins and catch-ups at once. The buckets are still
 * consulted on every request, so their cost is measured. ServerProcess lifts the message
 * rate (FERRY_RATE_*) itself.
 */
const BENCH_LIMITS: Record<string, string> = {
  FERRY_MAX_SOCKETS_PER_USER: LIFTED,
  FERRY_JOIN_BURST: LIFTED,
  FERRY_JOIN_PER_MINUTE: LIFTED,
  FERRY_HISTORY_BURST: LIFTED,
  FERRY_HISTORY_PER_MINUTE: LIFTED,
};

export type ClusterStore = { kind: 'sqlite' } | { kind: 'postgres'; nodes: number };

/** Nodes over one store; a node killed with `node(i).kill()` comes back with `.start()`. */
export interface BenchCluster {
  /** "SQLite, 1 node", "PostgreSQL + Redis, 3 nodes". */
  readonly description: string;
  readonly nodes: readonly ServerProcess[];
  /** Node i, from 0; throws if there is none. */
  node(index: number): ServerProcess;
  /** Node i's origin now (a restarted node may listen on another port). */
  url(index: number): string;
  /** Stops every node, then drops what the cluster made (database, Redis, folder). */
  stop(): Promise<void>;
}

/** Starts the nodes of `store` and resolves once every one answers /healthz. */
export async function startCluster(store: ClusterStore): Promise<BenchCluster> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const nodes: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    let description: string;
    if (store.kind === 'sqlite') {
      const dir = tempDir('ferry-bench-sqlite-');
      cleanups.push(() => dir.dispose());
      description = 'SQLite, 1 node';
      nodes.push(node({ dbPath: join(dir.path, 'ferry.db') }));
    } else {
      const env = await postgresEnvironment(store.nodes, cleanups);
      const fanout = env.FERRY_REDIS_URL ? ' + Redis' : '';
      description = `PostgreSQL${fanout}, ${store.nodes} node${store.nodes === 1 ? '' : 's'}`;
      for (let i = 0; i < store.nodes; i++) nodes.push(node({ script: FERRY_MAIN, env }));
    }
    // A first boot migrates the database; the others wait on its advisory lock meanwhile.
    await Promise.all(nodes.map((each) => each.start()));
    const nodeAt = (index: number) => {
      const found = nodes[index];
      if (!found) throw new Error(`the cluster has no node ${index}`);
      return found;
    };
    return { description, nodes, node: nodeAt, url: (index) => nodeAt(index).url(), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function node(options: { dbPath: string } | { script: string; env: Record<string, string> }) {
  const env = 'env' in options ? options.env : {};
  return new ServerProcess({
    port: 0,
    printStderr: true,
    ...options,
    env: { ...BENCH_LIMITS, ...env },
  });
}

/**
 * A fresh database for the nodes, and a Redis of the run's own when there are several
 * (one node needs no fan-out, and a shared Redis would mix other runs' broadcasts in).
 * test/support is imported here, when needed: it loads vitest (for its `describe` helpers),
 * a second of start-up no other benchmark should pay.
 */
async function postgresEnvironment(
  nodes: number,
  cleanups: (() => Promise<void> | void)[],
): Promise<Record<string, string>> {
  const { freshDatabase } = await import('../../test/support/postgres.ts');
  const database = await freshDatabase();
  cleanups.push(() => database.drop());
  if (nodes === 1) return { FERRY_DATABASE_URL: database.url };
  const { RedisProcess } = await import('../../test/support/redis.ts');
  const redis = await RedisProcess.start();
  cleanups.push(() => redis.stop());
  return { FERRY_DATABASE_URL: database.url, FERRY_REDIS_URL: redis.url };
}
