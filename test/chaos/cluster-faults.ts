import type { ChaosDevice } from './chaos-client.ts';
import type { ChaosCluster } from './cluster.ts';
import type { ConvergenceWatch } from './convergence.ts';
import type { ExternalFault, Typist } from './faults.ts';
import type { SeededRandom } from './random.ts';
import { labelled } from './workload.ts';

type Range = readonly [min: number, max: number];

/** The cluster's own faults in a run; counts are per run. */
export interface ClusterFaultPlan {
  /** SIGKILL of a node, started again after `nodeDowntimeMs`. */
  nodeKills: number;
  nodeDowntimeMs: Range;
  /** SIGSTOP of a node for `nodePauseMs`, then SIGCONT. */
  nodePauses: number;
  nodePauseMs: Range;
  /** Redis killed and an empty one started after `redisDowntimeMs`. */
  redisRestarts: number;
  redisDowntimeMs: Range;
  /** `CLIENT KILL TYPE pubsub` on Redis. */
  pubsubKills: number;
  /** `pg_terminate_backend` on every connection of the app. */
  pgTerminates: number;
  /** A node killed between a batch's COMMIT and its broadcast (see `killAtNextBroadcast`). */
  commitKills: number;
  /** A `send` ack dropped with its connection after the batch was stored. */
  ackDrops: number;
}

export type ClusterFaultKind =
  | 'node-kill'
  | 'node-pause'
  | 'redis-restart'
  | 'pubsub-kill'
  | 'pg-terminate'
  | 'commit-kill'
  | 'ack-drop';

export const CLUSTER_FAULT_KINDS: readonly ClusterFaultKind[] = [
  'node-kill',
  'node-pause',
  'redis-restart',
  'pubsub-kill',
  'pg-terminate',
  'commit-kill',
  'ack-drop',
];

/** How long a trap (the next broadcast, the next ack) waits for its moment. */
const TRAP_WITHIN_MS = 5_000;
/**
 * The least time between one fault's heal and the next fault: enough for every node's
 * Redis link to come back (its reconnect attempts are at most 1 s apart).
 */
const RECOVERY_GAP_MS = 1_000;
/** Devices that type a message each while Redis is down. */
const OUTAGE_TYPISTS = 3;

/**
 * The cluster's faults as the nemesis schedules them. Each one is injected, healed, and
 * then handed to the convergence watch, timed from the heal.
 */
export function clusterFaults(options: {
  cluster: ChaosCluster;
  devices: readonly ChaosDevice[];
  typist: Typist;
  plan: ClusterFaultPlan;
  convergence: ConvergenceWatch;
  /** Acks relayed during each Redis outage, in order (each must be above 0). */
  redisOutageAcks: number[];
  log: (line: string) => void;
}): ExternalFault[] {
  const { cluster, devices, typist, plan, convergence, redisOutageAcks, log } = options;
  const healed = (kind: ClusterFaultKind, what: string) => {
    log(`${kind}: ${what}`);
    void convergence.measure(kind).catch((error: unknown) => {
      log(`${kind}: could not read the heads to time convergence (${String(error)})`);
    });
    return true;
  };
  let lastHealedAt = 0;
  const fault = (
    kind: ClusterFaultKind,
    count: number,
    inject: (random: SeededRandom) => Promise<boolean>,
  ): ExternalFault => ({
    kind,
    count,
    inject: async (random) => {
      // Faults due together would otherwise hit a cluster still recovering from the last.
      await sleep(lastHealedAt + RECOVERY_GAP_MS - performance.now());
      try {
        return await inject(random);
      } finally {
        lastHealedAt = performance.now();
      }
    },
  });
  /**
   * Waits for a trap that the next broadcast or ack springs, while a device types one more
   * message: the trap then has something to catch even after the workload has ended.
   */
  const provoking = async <T>(random: SeededRandom, why: string, trap: Promise<T>) => {
    const typing = typist.typeNow(random.pick(devices), [labelled(why)]);
    const caught = await trap;
    await typing;
    return caught;
  };
  /** A serving node, or null when none is (then the fault has nothing to hit). */
  const anyNode = (random: SeededRandom) => {
    const serving = cluster.serving;
    return serving.length > 0 ? random.pick(serving) : null;
  };

  return [
    fault('node-kill', plan.nodeKills, async (random) => {
      const node = anyNode(random);
      const downtimeMs = random.between(...plan.nodeDowntimeMs);
      if (node === null) return false;
      await cluster.killNode(node, downtimeMs);
      return healed('node-kill', `node ${node} SIGKILLed, back after ${ms(downtimeMs)}`);
    }),
    fault('node-pause', plan.nodePauses, async (random) => {
      const node = anyNode(random);
      const pauseMs = random.between(...plan.nodePauseMs);
      if (node === null) return false;
      await cluster.pauseNode(node, pauseMs);
      return healed('node-pause', `node ${node} SIGSTOPped for ${ms(pauseMs)}, then SIGCONT`);
    }),
    fault('redis-restart', plan.redisRestarts, async (random) => {
      const downtimeMs = random.between(...plan.redisDowntimeMs);
      // A few people type while Redis is down, so the outage has sends to answer even if it
      // came after the workload: they must be stored and acked as ever.
      const typists = Array.from({ length: OUTAGE_TYPISTS }, () => random.pick(devices));
      let typing: Promise<unknown> = Promise.resolve();
      const { acks, refusals } = await cluster.restartRedis(downtimeMs, () => {
        typing = Promise.all(
          typists.map((device) => typist.typeNow(device, [labelled('while Redis is down')])),
        );
      });
      await typing;
      redisOutageAcks.push(acks);
      const meanwhile = `${acks} acks and ${refusals} refusals meanwhile`;
      return healed('redis-restart', `Redis down ${ms(downtimeMs)}, ${meanwhile}`);
    }),
    fault('pubsub-kill', plan.pubsubKills, async () => {
      const { killed, subscribers } = await cluster.killPubsubClients();
      const who = `(${subscribers.join(', ') || 'none listed'})`;
      if (killed > 0) return healed('pubsub-kill', `${killed} pub/sub clients killed ${who}`);
      log(`pubsub-kill: no pub/sub client to kill ${who}`);
      return false;
    }),
    fault('pg-terminate', plan.pgTerminates, async () => {
      const terminated = await cluster.terminateBackends();
      if (terminated > 0) return healed('pg-terminate', `${terminated} backends terminated`);
      log('pg-terminate: no backend of the app to terminate');
      return false;
    }),
    fault('commit-kill', plan.commitKills, async (random) => {
      const downtimeMs = random.between(...plan.nodeDowntimeMs);
      const trap = cluster.killAtNextBroadcast(TRAP_WITHIN_MS, downtimeMs);
      const node = await provoking(random, 'to be broadcast', trap);
      if (node === null) {
        log(`commit-kill: no broadcast within ${ms(TRAP_WITHIN_MS)}`);
        return false;
      }
      return healed(
        'commit-kill',
        `node ${node} killed holding a broadcast, back after ${ms(downtimeMs)}`,
      );
    }),
    fault('ack-drop', plan.ackDrops, async (random) => {
      const trap = cluster.dropNextAck(TRAP_WITHIN_MS);
      const dropped = await provoking(random, 'to be acked', trap);
      if (dropped) return healed('ack-drop', 'an ack dropped with its connection');
      log(`ack-drop: no ack within ${ms(TRAP_WITHIN_MS)}`);
      return false;
    }),
  ].filter((each) => each.count > 0);
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}
