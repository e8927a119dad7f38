/** Order statistics over benchmark samples. Inputs are never mutated. */

/** The middle value (mean of the two middle values for an even count); NaN when empty. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/**
 * The `p`-th percentile (0..100) with linear interpolation between closest ranks; NaN when
 * there are no samples or one of them is NaN (a measurement that did not complete).
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0 || samples.some(Number.isNaN)) return Number.NaN;
  const sorted = samples.slice().sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  const highValue = sorted[high] as number;
  return lowValue + (highValue - lowValue) * (rank - low);
}

/** `numerator / denominator`, or null when either is not a finite figure or the base is 0. */
export function ratio(numerator: number, denominator: number | null): number | null {
  if (denominator === null || !Number.isFinite(numerator) || !Number.isFinite(denominator)) {
    return null;
  }
  return denominator === 0 ? null : numerator / denominator;
}
