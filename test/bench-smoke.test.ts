// Keeps `npm run bench` from rotting: every Node-side benchmark runs once, tiny, and must
// produce finite figures in rows of the documented shape. No Chromium needed.
import { describe, expect, it } from 'vitest';
import { SMOKE_CONFIG } from '../bench/config.ts';
import { renderTable } from '../bench/report.ts';
import { makeRow, type ReportRow, toResultRow } from '../bench/rows.ts';
import { median, percentile } from '../bench/stats.ts';
import { BENCHMARKS, type BenchDefinition } from '../bench/suite.ts';
import { describeWithPostgres } from './support/postgres.ts';
import { describeWithRedis } from './support/redis.ts';

const RESULT_KEYS = ['baseline', 'ferry', 'goal', 'met', 'name', 'ratio', 'unit'];

function expectWellFormed(row: ReportRow): void {
  const json = toResultRow(row);
  expect(Object.keys(json).sort()).toEqual(RESULT_KEYS);
  expect(json.name).toMatch(/\S/);
  expect(json.unit).toMatch(/\S/);
  expect(Number.isFinite(json.ferry)).toBe(true);
  if (json.baseline !== null) {
    expect(Number.isFinite(json.baseline)).toBe(true);
    expect(json.ratio).toBeCloseTo(json.ferry / json.baseline, 9);
  } else {
    expect(json.ratio).toBeNull();
  }
  // `met` exists exactly when there is a goal, and is a boolean then.
  expect(json.met === null).toBe(json.goal === null);
}

describe('bench harness', () => {
  it('computes medians, percentiles and `met` from the figures', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
    const goal = { text: '<= 2x', criteria: [{ figure: 'ratio', op: '<=', value: 2 }] } as const;
    const met = makeRow({
      name: 'a',
      unit: 'ms',
      better: 'lower',
      ferry: [3],
      baseline: [2],
      goal,
    });
    const missed = makeRow({
      name: 'b',
      unit: 'ms',
      better: 'lower',
      ferry: [5],
      baseline: [2],
      goal,
    });
    expect([met.ratio, met.met, missed.met]).toEqual([1.5, true, false]);
    expect(makeRow({ name: 'c', unit: 'ms', better: 'lower', ferry: [1] }).met).toBeNull();
  });

  const nodeSide = BENCHMARKS.filter((bench) => !bench.chromium && !bench.scaleOut);
  it.each(nodeSide.map((bench) => [bench.id, bench] as const))(
    '%s runs tiny and yields well-formed rows',
    runsTiny,
  );
});

// The scale-out rows start Ferry nodes over PostgreSQL with a Redis of their own.
describeWithPostgres('bench harness over PostgreSQL', () => {
  describeWithRedis('and Redis', () => {
    const scaleOut = BENCHMARKS.filter((bench) => bench.scaleOut);
    it.each(scaleOut.map((bench) => [bench.id, bench] as const))(
      '%s runs tiny and yields well-formed rows',
      runsTiny,
    );
  });
});

async function runsTiny(_id: string, bench: BenchDefinition): Promise<void> {
  const rows = await bench.run(SMOKE_CONFIG);
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expectWellFormed(row);
  expect(renderTable(rows)).toContain(rows[0]?.name);
}
