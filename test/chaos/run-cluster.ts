import { findings, type Verdict } from './checker.ts';
import { ChaosCluster } from './cluster.ts';
import { CLUSTER_FAULT_KINDS, clusterFaults } from './cluster-faults.ts';
import { type Convergence, ConvergenceWatch, percentile } from './convergence.ts';
import { installDeviceClocks } from './device-clock.ts';
import type { ClusterProfile } from './profiles.ts';
import { SeededRandom } from './random.ts';
import { runSession } from './session.ts';
import type { OpCounts } from './workload.ts';

const LABEL = 'chaos-cluster';

export interface ClusterRunOptions {
  profile: ClusterProfile;
  seed: number;
  /** Progress and diagnostics; the summary line is returned, not logged. */
  log?: (line: string) => void;
}

export interface ClusterRunResult {
  seed: number;
  verdict: Verdict;
  /** `chaos-cluster: seed=… nodes=… … converge_p99_ms=…`: the one line a run ends with. */
  summary: string;
  /**
   * Every count the checker reports is 0, no node exited unasked, no fault failed, every
   * Redis outage saw acks, and the devices converged after every fault.
   */
  passed: boolean;
  wallMs: number;
  /** How often each kind of fault happened: the cluster's and the nemesis's own. */
  kinds: Record<string, number>;
  /** Node exits no fault and no stop asked for. */
  crashes: readonly string[];
  /** Faults that threw instead of healing. */
  faultErrors: readonly string[];
  /** Acks relayed to devices during each Redis outage. */
  redisOutageAcks: readonly number[];
  /** Convergence after each healed fault, in the order they converged. */
  convergence: readonly Convergence[];
  convergeP99Ms: number;
  /** Connections the balancer sent to each node. */
  routed: readonly number[];
  nodeBoots: number;
  scripted: number;
  attempted: number;
  promised: number;
  /** The edits and deletes typed. */
  ops: OpCounts;
}

/**
 * One chaos run against a cluster (see ChaosCluster): the devices, workload, nemesis and
 * checker of a single-node run (session.ts), with the cluster's faults scheduled among the
 * nemesis's own and convergence timed after each one heals.
 */
export async function runClusterChaos(options: ClusterRunOptions): Promise<ClusterRunResult> {
  const { profile, seed } = options;
  const log = options.log ?? (() => {});
  // Before any engine exists: socket.io binds the global timers when it builds its objects.
  installDeviceClocks();
  const started = performance.now();
  const random = new SeededRandom(seed);
  const cluster = await ChaosCluster.start({
    nodes: profile.nodes,
    rate: profile.rateLimit,
    random: random.fork('balancer'),
    log: (line) => log(`${LABEL}: ${line}`),
  });
  // Made once the devices are up (it times them), by the session's call to externalFaults.
  const watch: { current: ConvergenceWatch | null } = { current: null };
  const redisOutageAcks: number[] = [];
  try {
    log(`${LABEL}: ${profile.nodes} nodes up, balancer on port ${cluster.port}`);
    const outcome = await runSession({
      profile,
      seed,
      random,
      label: LABEL,
      log,
      backend: {
        port: cluster.port,
        server: null,
        status: () =>
          `nodes serving ${cluster.serving.join(',') || 'none'}, ${cluster.acks} acks relayed, ` +
          `refusals ${describeCounts(cluster.refusals)}`,
        storedCounts: () => cluster.storedCounts(),
        stopAndRead: (views) => {
          // The settle is over: what has not converged by now never will.
          watch.current?.stop();
          return cluster.stopAndRead(views);
        },
        recentLog: () => cluster.log,
      },
      externalFaults: (devices, typist) => {
        const convergence = new ConvergenceWatch(
          devices,
          () => cluster.heads(),
          (line) => log(`${LABEL}: ${line}`),
        );
        watch.current = convergence;
        return clusterFaults({
          cluster,
          devices,
          typist,
          plan: profile.cluster,
          convergence,
          redisOutageAcks,
          log: (line) => log(`${LABEL}: ${line}`),
        });
      },
    });
    const results = watch.current?.stop() ?? [];
    for (const result of results) {
      const how = result.converged ? 'converged' : 'NOT converged';
      log(`${LABEL}: ${how} after ${result.fault} in ${Math.round(result.ms)} ms`);
    }
    const times = results.map((result) => result.ms);
    const convergeP99Ms = Math.round(percentile(times, 99));
    // The cluster's kinds, then the nemesis's own that this profile uses.
    const kinds: Record<string, number> = {};
    for (const kind of CLUSTER_FAULT_KINDS) kinds[kind] = outcome.externalCounts[kind] ?? 0;
    for (const [kind, count] of Object.entries(outcome.kinds)) if (count > 0) kinds[kind] = count;
    const { verdict } = outcome;
    const problems = [
      ...cluster.crashes,
      ...outcome.externalErrors.map((error) => `fault failed: ${error}`),
      ...redisOutageAcks.flatMap((acks, i) =>
        acks > 0 ? [] : [`no ack reached a device during Redis outage ${i + 1}`],
      ),
      ...results.flatMap((result) =>
        result.converged ? [] : [`no convergence after ${result.fault}`],
      ),
    ];
    for (const problem of problems) log(`${LABEL}: ${problem}`);
    log(
      `${LABEL}: kinds ${describeCounts(new Map(Object.entries(kinds)))}; ` +
        `connections per node ${cluster.routed.join('/')}; ${cluster.boots} node boots; ` +
        `${cluster.acks} acks relayed, refusals ${describeCounts(cluster.refusals)}; ` +
        `acks during Redis outages ${redisOutageAcks.join(',')}`,
    );
    const summary =
      `${LABEL}: seed=${seed} nodes=${profile.nodes} clients=${outcome.clients} ` +
      `messages=${outcome.promised} faults=${outcome.faults} lost=${verdict.lost} ` +
      `duplicated=${verdict.duplicated} reordered=${verdict.reordered} ` +
      `diverged=${verdict.diverged} gaps=${verdict.gaps} staleEdit=${verdict.staleEdit} ` +
      `undeleted=${verdict.undeleted} converge_p99_ms=${convergeP99Ms}`;
    return {
      seed,
      verdict,
      summary,
      passed:
        Object.values(findings(verdict)).every((count) => count === 0) && problems.length === 0,
      wallMs: performance.now() - started,
      kinds,
      crashes: cluster.crashes,
      faultErrors: outcome.externalErrors,
      redisOutageAcks,
      convergence: results,
      convergeP99Ms,
      routed: cluster.routed,
      nodeBoots: cluster.boots,
      scripted: outcome.scripted,
      attempted: outcome.attempted,
      promised: outcome.promised,
      ops: outcome.ops,
    };
  } finally {
    watch.current?.stop();
    await cluster.dispose();
  }
}

/** `rate_limited:12,internal:3`, or `none`. */
function describeCounts(counts: ReadonlyMap<string, number>): string {
  const entries = [...counts].map(([key, count]) => `${key}:${count}`);
  return entries.join(',') || 'none';
}
