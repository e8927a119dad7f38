import type { ProfileName } from './profiles.ts';

/**
 * Seeds that once made the checker fail, kept so that `npm test` replays them (the fault
 * schedule is drawn from the seed; interleavings still vary with timing). Add one line per
 * bug found, with what it was and where it was fixed. A bug that a test of its own now
 * pins down names it in `ownTest`: its seed is replayed by hand (`CHAOS_SEED=<n> npm run
 * chaos -- --profile ci`), not in every `npm test`, where each seed costs a minute.
 */
export const REGRESSION_SEEDS: readonly {
  profile: ProfileName;
  seed: number;
  found: string;
  ownTest?: string;
}[] = [
  {
    profile: 'ci',
    seed: 1495005963,
    found:
      'reordered=242: the fault proxy let chunks of one TCP stream overtake each other under ' +
      'jitter, so the server got batches out of order (fixed in test/support/fault-proxy.ts)',
    ownTest: 'test/chaos/proxy-order.test.ts',
  },
  {
    profile: 'ci',
    seed: 1683149055,
    found:
      'all five defects of issue 10 on the engine before it (reordered after a sleep, ' +
      'refused-request loops, two users for one profile shown failed and twice, a hostile ' +
      'batch wedging the outbox, a slow uplink taken for dead): see docs/reliability.md',
  },
  {
    profile: 'ci',
    seed: 1056931357,
    found:
      'diverged=1 misrefused=1: in a shared profile an over-limit body failed by one tab ' +
      "stayed pending in the other tab's view until a reload",
    ownTest: 'test/integration/shared-profile.test.ts',
  },
];

/** The same for the cluster runs (`npm run chaos -- --cluster`, chaos-cluster.test.ts). */
export const CLUSTER_REGRESSION_SEEDS: readonly {
  profile: ProfileName;
  seed: number;
  found: string;
}[] = [
  {
    profile: 'ci',
    seed: 33,
    found:
      'no ack during the Redis outage: the nemesis blackholed every link just before it, and ' +
      'the devices took 10 s to find their dead links (a harness bug: the cluster profiles ' +
      'have no blackhole)',
  },
];
