import type { ProfileName } from './profiles.ts';

/**
 * Seeds that once made the checker fail, kept so that `npm test` replays them (the fault
 * schedule is drawn from the seed; interleavings still vary with timing). Add one line per
 * bug found, with what it was and where it was fixed.
 */
export const REGRESSION_SEEDS: readonly { profile: ProfileName; seed: number; found: string }[] = [
  {
    profile: 'ci',
    seed: 1495005963,
    found:
      'reordered=242: the fault proxy let chunks of one TCP stream overtake each other under ' +
      'jitter, so the server got batches out of order (fixed in test/support/fault-proxy.ts; ' +
      'see proxy-order.test.ts)',
  },
];
