// `npm run chaos [-- --cluster] [-- --profile ci|long]`: one chaos run outside vitest.
// IndexedDB comes from fake-indexeddb here too (vitest's setup file does it for the test suite).
import 'fake-indexeddb/auto';
import { parseArgs } from 'node:util';
import { CLUSTER_PROFILES, isProfileName, PROFILES } from './profiles.ts';
import { newSeed } from './random.ts';
import { runChaos } from './run.ts';
import { runClusterChaos } from './run-cluster.ts';

const USAGE =
  'usage: npm run chaos [-- [--cluster] --profile ci|long]   (CHAOS_SEED=<n> replays a seed)\n' +
  '  --cluster  3 nodes over PostgreSQL (FERRY_TEST_POSTGRES_URL) and a Redis of its own;\n' +
  '             CHAOS_DEBUG_STDERR=1 prints what the nodes write on stderr as it comes';

let profileName: string;
let cluster: boolean;
try {
  // parseArgs refuses unknown flags and stray arguments, so a typo cannot silently run the
  // long profile.
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      profile: { type: 'string', default: 'long' },
      cluster: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  profileName = values.profile;
  cluster = values.cluster;
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}
if (!isProfileName(profileName)) {
  console.error(`unknown profile "${profileName}": use ci or long\n${USAGE}`);
  process.exit(2);
}
const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : newSeed();
if (!Number.isInteger(seed)) {
  console.error(`CHAOS_SEED must be an integer, got "${process.env.CHAOS_SEED}"`);
  process.exit(2);
}

// Exiting through process.exit runs the exit hooks that SIGKILL the server children.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const label = cluster ? 'chaos-cluster' : 'chaos';
const log = (line: string) => console.log(line);
console.log(`${label}: profile=${profileName} seed=${seed} (replay with CHAOS_SEED=${seed})`);
const result = cluster
  ? await runClusterChaos({ profile: CLUSTER_PROFILES[profileName], seed, log })
  : await runChaos({ profile: PROFILES[profileName], seed, log });
console.log(`${label}: wall time ${(result.wallMs / 1_000).toFixed(1)} s`);
console.log(result.summary);
process.exit(result.passed ? 0 : 1);
