import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/postgres.ts';
import { describeWithRedis } from '../support/redis.ts';
import { findings } from './checker.ts';
import { CLUSTER_FAULT_KINDS } from './cluster-faults.ts';
import { CLUSTER_PROFILES } from './profiles.ts';
import { CLUSTER_REGRESSION_SEEDS } from './regressions.ts';
import { runClusterChaos } from './run-cluster.ts';

/** A CI-profile cluster run takes about a minute on 2 cores; the budget is 90 s. */
const CLUSTER_RUN_TIMEOUT_MS = 240_000;

/** `CHAOS_SEED=<n> npm test` replays one seed; otherwise every CI cluster seed runs. */
function seeds(): number[] {
  const fromEnv = process.env.CHAOS_SEED;
  if (fromEnv) return [Number(fromEnv)];
  return CLUSTER_REGRESSION_SEEDS.filter((entry) => entry.profile === 'ci').map((e) => e.seed);
}

const SUMMARY =
  /^chaos-cluster: seed=\d+ nodes=3 clients=\d+ messages=\d+ faults=\d+ lost=\d+ duplicated=\d+ reordered=\d+ diverged=\d+ gaps=\d+ staleEdit=\d+ undeleted=\d+ converge_p99_ms=\d+$/;

// Without PostgreSQL or redis-server these are skipped loudly, except in CI, where they run
// and fail.
describeWithPostgres('chaos suite, cluster mode', () => {
  describeWithRedis('CI profile: 3 nodes over PostgreSQL, a Redis of its own', () => {
    it.each(seeds())(
      'loses, duplicates, reorders nothing, crashes no node and converges after every node, ' +
        'Redis and PostgreSQL fault (seed %i)',
      async (seed) => {
        const profile = CLUSTER_PROFILES.ci;
        const result = await runClusterChaos({ profile, seed, log: (line) => console.log(line) });
        console.log(result.summary);

        expect(result.summary).toMatch(SUMMARY);
        const counts = findings(result.verdict);
        expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((key) => [key, 0])));
        // No node exited unless a fault killed it or the run stopped it (then with code 0).
        expect(result.crashes).toEqual([]);
        expect(result.faultErrors).toEqual([]);
        // Sends were stored and acked while Redis was down.
        expect(result.redisOutageAcks).toHaveLength(profile.cluster.redisRestarts);
        for (const acks of result.redisOutageAcks) expect(acks).toBeGreaterThan(0);
        for (const each of result.convergence) {
          expect(each.converged, `convergence after ${each.fault}`).toBe(true);
        }
        expect(result.passed).toBe(true);

        // Not a vacuous pass: the whole workload ran, clients reached every node, and every
        // kind of cluster fault happened, each timed to convergence.
        const total = profile.clients * profile.workload.messagesPerClient;
        expect(result.scripted).toBe(total);
        expect(result.promised).toBeGreaterThanOrEqual(total * 0.95);
        for (const [node, connections] of result.routed.entries()) {
          expect(connections, `connections to node ${node}`).toBeGreaterThan(0);
        }
        for (const kind of CLUSTER_FAULT_KINDS) {
          expect(result.kinds[kind], `${kind} faults`).toBeGreaterThan(0);
          const timed = result.convergence.filter((each) => each.fault === kind);
          expect(timed, `convergence timed after ${kind}`).toHaveLength(result.kinds[kind] ?? 0);
        }
        expect(result.kinds.cut).toBeGreaterThan(0);
        expect(result.ops.edits).toBeGreaterThan(0);
        expect(result.ops.deletes).toBeGreaterThan(0);
      },
      CLUSTER_RUN_TIMEOUT_MS,
    );
  });
});
