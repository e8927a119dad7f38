// `npm run cluster [-- --nodes N]`: N Ferry processes (3 by default, or FERRY_CLUSTER_NODES)
// on consecutive ports from PORT (8080), over this machine's PostgreSQL and Redis, for
// trying scale-out by hand (README, "Running several processes"). Ctrl-C or SIGTERM stops
// them all. A node that dies is reported, never restarted: killing one is the failover trial.
import { withoutPassword } from '../src/server/redacted-url.ts';
import { ensureDatabase } from './cluster/database.ts';
import { ClusterNode, describeExit } from './cluster/node.ts';
import {
  type ClusterOptions,
  clusterOptions,
  nodePort,
  nodeUrl,
  probeUrl,
  USAGE,
} from './cluster/options.ts';

/** A first boot compiles with tsx and migrates the database: seconds, not tens of them. */
const BOOT_TIMEOUT_MS = 30_000;
/** main.ts closes its sockets and the database in well under this; then SIGKILL. */
const STOP_GRACE_MS = 5_000;

const say = (line: string) => console.log(`[cluster] ${line}`);
const complain = (line: string) => console.error(`[cluster] ${line}`);
const nodesWord = (count: number) => `${count} node${count === 1 ? '' : 's'}`;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

let options: ClusterOptions;
try {
  options = clusterOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(`${messageOf(error)}\n${USAGE}`);
  process.exit(2);
}
const { databaseUrl, redisUrl } = options;

try {
  if ((await ensureDatabase(databaseUrl)) === 'created') {
    say(`created the database ${withoutPassword(databaseUrl)}`);
  }
} catch (error) {
  complain(messageOf(error));
  process.exit(1);
}
// Redis is not checked: a node starts without it and says so itself (then keeps retrying).

const nodes = Array.from({ length: options.nodes }, (_, i) => {
  const index = i + 1;
  return new ClusterNode({
    index,
    port: nodePort(options, index),
    probeUrl: probeUrl(options, index),
    env: {
      ...process.env,
      PORT: String(nodePort(options, index)),
      FERRY_DATABASE_URL: databaseUrl,
      FERRY_REDIS_URL: redisUrl,
    },
  });
});
// However this script ends, no node may outlive it (a SIGKILL of the script aside).
process.on('exit', () => {
  for (const node of nodes) node.kill();
});

let ready = false;
let stopping = false;

/** Stops every node, gracefully unless asked twice, then exits with `code`. */
async function stopAll(why: string, code: number): Promise<void> {
  if (stopping) {
    say('stopping now (SIGKILL)');
    for (const node of nodes) node.kill();
    return;
  }
  stopping = true;
  const running = nodes.filter((node) => node.running);
  say(
    `${why}: stopping ${nodesWord(running.length)} (SIGTERM, SIGKILL after ${STOP_GRACE_MS / 1_000} s; ` +
      'Ctrl-C again to kill them now)',
  );
  await Promise.all(running.map((node) => node.stop(STOP_GRACE_MS)));
  say('every node has stopped');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void stopAll(signal, 0));
}

for (const node of nodes) {
  void node.exited.then((exit) => {
    // While starting, waitHealthy reports it; while stopping, it was asked to.
    if (!ready || stopping) return;
    const alive = nodes.filter((other) => other.running).length;
    complain(
      `node ${node.index} (${nodeUrl(options, node.index)}) exited (${describeExit(exit)}); ` +
        `not restarting it, ${alive} of ${nodes.length} still running. To bring it back, run ` +
        `npm start with PORT=${node.port} and the same FERRY_DATABASE_URL and FERRY_REDIS_URL.`,
    );
    if (alive === 0) {
      complain('every node has exited');
      process.exit(1);
    }
  });
}

try {
  await Promise.all(nodes.map((node) => node.waitHealthy(BOOT_TIMEOUT_MS)));
  // One that was up early may have died while the others were still starting.
  const died = nodes.find((node) => !node.running);
  if (died) throw new Error(`node ${died.index} exited while the others were starting`);
} catch (error) {
  // Stopped while starting: the nodes exit because they were asked to.
  if (!stopping) {
    complain(messageOf(error));
    await stopAll('a node did not start', 1);
  }
}

if (!stopping) {
  ready = true;
  say(
    `${nodesWord(nodes.length)} up, over ${withoutPassword(databaseUrl)} and ${withoutPassword(redisUrl)}:`,
  );
  for (const node of nodes)
    say(`  node ${node.index}: ${nodeUrl(options, node.index)} (pid ${node.pid})`);
  say(
    'Open two of them side by side, or put a load balancer in front (README, "Running several ' +
      'processes"). Kill a pid to try failover. Ctrl-C stops them all.',
  );
}
