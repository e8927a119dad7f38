/** BENCH_VERBOSE=1 prints every sample as it is taken, with the time it took. */
const VERBOSE = process.env.BENCH_VERBOSE === '1';

/** A measurement of one variant: resolves with one sample (a figure, or several). */
export type Measure<S = number> = () => Promise<S>;

/**
 * Runs every variant `reps` times, interleaved: rep i runs the variants in an order rotated
 * by i, so slow drift on a shared machine (other processes, thermal, GC) spreads evenly over
 * Ferry and its baselines instead of landing on whichever ran last. The variants named in
 * `warmUp` first run once unrecorded, so that no sample pays for a cold start (JIT, a first
 * IndexedDB in the browser); the slow baselines that only wait on the network need none.
 */
export async function alternate<K extends string, S = number>(
  reps: number,
  variants: Record<K, Measure<S>>,
  options: { warmUp?: readonly NoInfer<K>[] } = {},
): Promise<Record<K, S[]>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as S[]])) as Record<K, S[]>;
  for (const name of options.warmUp ?? []) await variants[name]();
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(rep + k) % names.length] as K;
      const started = performance.now();
      const sample = await variants[name]();
      samples[name].push(sample);
      if (VERBOSE) {
        const tookS = ((performance.now() - started) / 1_000).toFixed(1);
        console.log(
          `  rep ${rep + 1} ${name}: ${JSON.stringify(sample).slice(0, 80)} (${tookS} s)`,
        );
      }
    }
  }
  return samples;
}
