import { describe, expect, it } from 'vitest';
import { findings } from './checker.ts';
import { PROFILES } from './profiles.ts';
import { REGRESSION_SEEDS } from './regressions.ts';
import { runChaos } from './run.ts';

/** A CI-profile run takes a minute or two on 2 cores; the bound is 3 minutes. */
const CI_RUN_TIMEOUT_MS = 180_000;

/**
 * `CHAOS_SEED=<n> npm test` replays one seed; otherwise every CI regression seed runs but
 * those whose bug a test of its own pins down (see REGRESSION_SEEDS).
 */
function seeds(): number[] {
  const fromEnv = process.env.CHAOS_SEED;
  if (fromEnv) return [Number(fromEnv)];
  return REGRESSION_SEEDS.filter((entry) => entry.profile === 'ci' && !entry.ownTest).map(
    (entry) => entry.seed,
  );
}

const SUMMARY =
  /^chaos: seed=\d+ clients=\d+ messages=\d+ faults=\d+ lost=\d+ duplicated=\d+ reordered=\d+ diverged=\d+ gaps=\d+ failedButStored=\d+ listedTwice=\d+ refused=\d+ stuck=\d+ misrefused=\d+ flapped=\d+ staleEdit=\d+ undeleted=\d+ kinds=(?:[a-z-]+:\d+,)*[a-z-]+:\d+$/;

describe('chaos suite, CI profile', () => {
  it.each(seeds())(
    'loses, duplicates, reorders nothing, keeps every last edit and delete, and leaves nobody stuck, under faults (seed %i)',
    async (seed) => {
      const profile = PROFILES.ci;
      const result = await runChaos({ profile, seed, log: (line) => console.log(line) });
      console.log(result.summary);

      expect(result.summary).toMatch(SUMMARY);
      const counts = findings(result.verdict);
      expect(counts).toEqual(Object.fromEntries(Object.keys(counts).map((key) => [key, 0])));

      // Not a vacuous pass: the whole workload ran and every kind of fault happened,
      // including a shared profile, a frozen device, a slow link, rate-limit holds and
      // hostile input.
      const total = profile.clients * profile.workload.messagesPerClient;
      expect(result.scripted).toBe(total);
      expect(result.promised).toBeGreaterThanOrEqual(total * 0.95);
      expect(result.serverBoots).toBe(1 + profile.faults.serverKills);
      for (const [kind, count] of Object.entries(result.kinds)) {
        expect(count, `${kind} faults`).toBeGreaterThan(0);
      }
      // People edited (some messages twice) and deleted, some messages still pending.
      expect(result.ops.edits).toBeGreaterThan(0);
      expect(result.ops.reedits).toBeGreaterThan(0);
      expect(result.ops.deletes).toBeGreaterThan(0);
      expect(result.ops.onPending).toBeGreaterThan(0);
    },
    CI_RUN_TIMEOUT_MS,
  );
});
