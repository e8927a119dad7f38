import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, DEFAULT_BACKOFF } from '../../src/client/backoff.ts';

describe('Backoff', () => {
  it('doubles from the minimum up to the cap (jitter off)', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1_000, factor: 2, jitter: 0 });
    const delays = Array.from({ length: 7 }, () => backoff.duration());
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(backoff.attempts).toBe(7);
  });

  it('keeps every jittered delay within [base × (1 − jitter), base] and never above the cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 1,
          maxLength: 15,
        }),
        (draws) => {
          let i = 0;
          const backoff = new Backoff(DEFAULT_BACKOFF, {
            random: () => draws[i++ % draws.length] as number,
          });
          draws.forEach((_, attempt) => {
            const base = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.minMs * 2 ** attempt);
            const delay = backoff.duration();
            expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - DEFAULT_BACKOFF.jitter)));
            expect(delay).toBeLessThanOrEqual(base);
            expect(delay).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
          });
        },
      ),
    );
  });

  it('reports each delay with its attempt number', () => {
    const seen: [number, number][] = [];
    const backoff = new Backoff(
      { minMs: 10, maxMs: 100, factor: 3, jitter: 0 },
      { onDelay: (a, d) => seen.push([a, d]) },
    );
    backoff.duration();
    backoff.duration();
    expect(seen).toEqual([
      [1, 10],
      [2, 30],
    ]);
  });

  it('starts over from the minimum after a reset', () => {
    const backoff = new Backoff({ minMs: 10, maxMs: 100, factor: 2, jitter: 0 });
    backoff.duration();
    backoff.duration();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.duration()).toBe(10);
  });
});
