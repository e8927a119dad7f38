// `npm run chaos [-- --profile ci|long]`: one chaos run outside vitest. IndexedDB comes from
// fake-indexeddb here too (vitest's setup file does it for the test suite).
import 'fake-indexeddb/auto';
import { isProfileName, PROFILES } from './profiles.ts';
import { newSeed } from './random.ts';
import { runChaos } from './run.ts';

function profileFromArgs(args: readonly string[]): string {
  const flag = args.indexOf('--profile');
  const inline = args.find((arg) => arg.startsWith('--profile='));
  return (flag >= 0 ? args[flag + 1] : inline?.slice('--profile='.length)) ?? 'long';
}

const profileName = profileFromArgs(process.argv.slice(2));
if (!isProfileName(profileName)) {
  console.error(`unknown profile "${profileName}": use ci or long`);
  process.exit(2);
}
const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : newSeed();
if (!Number.isInteger(seed)) {
  console.error(`CHAOS_SEED must be an integer, got "${process.env.CHAOS_SEED}"`);
  process.exit(2);
}

// Exiting through process.exit runs the exit hook that SIGKILLs the server child.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

console.log(`chaos: profile=${profileName} seed=${seed} (replay with CHAOS_SEED=${seed})`);
const result = await runChaos({
  profile: PROFILES[profileName],
  seed,
  log: (line) => console.log(line),
});
console.log(`chaos: wall time ${(result.wallMs / 1_000).toFixed(1)} s`);
console.log(result.summary);
process.exit(result.passed ? 0 : 1);
