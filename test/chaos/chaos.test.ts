import { describe, expect, it } from 'vitest';
import { PROFILES } from './profiles.ts';
import { REGRESSION_SEEDS } from './regressions.ts';
import { runChaos } from './run.ts';

/** A CI-profile run takes about a minute on 2 cores; the bound is 3 minutes. */
const CI_RUN_TIMEOUT_MS = 180_000;

/** `CHAOS_SEED=<n> npm test` replays one seed; otherwise every CI regression seed runs. */
function seeds(): number[] {
  const fromEnv = process.env.CHAOS_SEED;
  if (fromEnv) return [Number(fromEnv)];
  return REGRESSION_SEEDS.filter((entry) => entry.profile === 'ci').map((entry) => entry.seed);
}

describe('chaos suite, CI profile', () => {
  it.each(seeds())(
    'loses, duplicates, reorders nothing under faults (seed %i)',
    async (seed) => {
      const profile = PROFILES.ci;
      const result = await runChaos({ profile, seed, log: (line) => console.log(line) });
      console.log(result.summary);

      expect(result.summary).toMatch(
        /^chaos: seed=\d+ clients=\d+ messages=\d+ faults=\d+ lost=\d+ duplicated=\d+ reordered=\d+ diverged=\d+ gaps=\d+$/,
      );
      const { lost, duplicated, reordered, diverged, gaps, unexpected } = result.verdict;
      expect({ lost, duplicated, reordered, diverged, gaps, unexpected }).toEqual({
        lost: 0,
        duplicated: 0,
        reordered: 0,
        diverged: 0,
        gaps: 0,
        unexpected: 0,
      });

      // Not a vacuous pass: the whole workload ran and every kind of fault happened.
      const total = profile.clients * profile.workload.messagesPerClient;
      expect(result.attempted).toBe(total);
      expect(result.promised).toBeGreaterThanOrEqual(total * 0.95);
      expect(result.serverBoots).toBe(1 + profile.faults.serverKills);
      for (const [kind, count] of Object.entries(result.faults)) {
        expect(count, `${kind} faults`).toBeGreaterThan(0);
      }
    },
    CI_RUN_TIMEOUT_MS,
  );
});
