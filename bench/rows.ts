import { median, ratio } from './stats.ts';

/** One figure a goal looks at: Ferry's median, or Ferry's median over the baseline's. */
export type Figure = 'ferry' | 'ratio';

/** One condition of a goal, checked against the measured figures. */
export interface Criterion {
  figure: Figure;
  op: '<' | '<=' | '>=';
  value: number;
}

/** A goal Ferry is held to: the text people read, and the criteria that decide `met`. */
export interface Goal {
  text: string;
  criteria: readonly Criterion[];
}

/** Which way is better for a unit; only used to phrase "N× faster" in the report. */
export type Better = 'lower' | 'higher';

/** One line of bench/results.json. `ratio` is always ferry / baseline in the row's unit. */
export interface ResultRow {
  name: string;
  unit: string;
  ferry: number;
  baseline: number | null;
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
}

/** A row as the report renders it: the JSON fields plus how to phrase the comparison. */
export interface ReportRow extends ResultRow {
  better: Better;
  /** Repetitions behind each median. */
  reps: number;
}

export interface RowInput {
  name: string;
  unit: string;
  better: Better;
  ferry: readonly number[];
  baseline?: readonly number[];
  goal?: Goal;
}

/** Medians, ratio and `met`, computed from the samples; `met` is null when there is no goal. */
export function makeRow(input: RowInput): ReportRow {
  const ferry = median(input.ferry);
  const baseline = input.baseline ? median(input.baseline) : null;
  const row = {
    name: input.name,
    unit: input.unit,
    ferry,
    baseline,
    ratio: ratio(ferry, baseline),
  };
  return {
    ...row,
    goal: input.goal?.text ?? null,
    met: input.goal ? meets(row, input.goal) : null,
    better: input.better,
    reps: input.ferry.length,
  };
}

/** True when every criterion holds; a missing figure (no baseline, NaN) fails it. */
export function meets(figures: { ferry: number; ratio: number | null }, goal: Goal): boolean {
  return goal.criteria.every((criterion) => {
    const value = criterion.figure === 'ferry' ? figures.ferry : figures.ratio;
    if (value === null || !Number.isFinite(value)) return false;
    if (criterion.op === '<') return value < criterion.value;
    if (criterion.op === '<=') return value <= criterion.value;
    return value >= criterion.value;
  });
}

/** The JSON form: exactly the documented fields. */
export function toResultRow(row: ReportRow): ResultRow {
  const { name, unit, ferry, baseline, ratio: r, goal, met } = row;
  return { name, unit, ferry, baseline, ratio: r, goal, met };
}
