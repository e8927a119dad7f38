import { launch } from 'chrome-launcher';
import lighthouse, { type Result } from 'lighthouse';
import { buildApp } from '../test/e2e/support/app-build.ts';
import { CHROMIUM_PATH, QUIET_ARGS } from '../test/support/chromium-binary.ts';
import type { BenchConfig } from './config.ts';
import { makeRow, type ReportRow } from './rows.ts';
import { spawnServer } from './servers/spawn.ts';

/** The four categories issue #15 holds to ≥ 95, in the report's order. */
const CATEGORIES = [
  { id: 'performance', name: 'performance' },
  { id: 'accessibility', name: 'accessibility' },
  { id: 'best-practices', name: 'best practices' },
  { id: 'seo', name: 'SEO' },
] as const;

type CategoryId = (typeof CATEGORIES)[number]['id'];

/** Attempts at one run before the benchmark fails (see runWithRetries). */
const RUN_ATTEMPTS = 3;

/** The goal of every category, as a score out of 100. */
const GOAL_SCORE = 95;

/** Performance metrics printed with every run: what the score is made of. */
const METRICS = [
  'first-contentful-paint',
  'largest-contentful-paint',
  'total-blocking-time',
  'cumulative-layout-shift',
  'speed-index',
] as const;

/** One Lighthouse run: each category's score (0-100) and what it printed about the run. */
interface LighthouseRun {
  scores: Record<CategoryId, number>;
  lines: string[];
}

/**
 * The audits that cost a category points: weighted, scored, and below full marks. The
 * informative and manual ones have no score and never move a category.
 */
function failingAudits(lhr: Result, category: CategoryId): string[] {
  const refs = lhr.categories[category]?.auditRefs ?? [];
  return refs
    .filter((ref) => ref.weight > 0)
    .flatMap((ref) => {
      const audit = lhr.audits[ref.id];
      if (!audit || audit.score === null || audit.score >= 1) return [];
      const value = audit.displayValue ? ` (${audit.displayValue})` : '';
      return [`${ref.id}: score ${audit.score.toFixed(2)}, weight ${ref.weight}${value}`];
    });
}

/**
 * The first DOM node an audit's details name (Lighthouse nests them in tables inside lists),
 * as its label: says which element the largest paint was, so which screen was audited.
 */
function firstNodeLabel(details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  if ('type' in details && details.type === 'node') {
    const node = details as { nodeLabel?: string; snippet?: string };
    return node.nodeLabel ?? node.snippet;
  }
  for (const value of Object.values(details)) {
    const label = firstNodeLabel(value);
    if (label !== undefined) return label;
  }
  return undefined;
}

function describeRun(lhr: Result, scores: Record<CategoryId, number>): string[] {
  const lcpElement = firstNodeLabel(lhr.audits['largest-contentful-paint-element']?.details);
  const lines = [
    CATEGORIES.map((category) => `${category.name} ${scores[category.id]}`).join(', '),
    `  metrics: ${METRICS.map((id) => `${id} ${lhr.audits[id]?.displayValue ?? '?'}`).join(', ')}`,
    `  largest paint: ${JSON.stringify(lcpElement ?? 'none')}`,
  ];
  for (const category of CATEGORIES) {
    for (const line of failingAudits(lhr, category.id)) {
      lines.push(`  ${category.name}: ${line}`);
    }
  }
  if (lhr.runWarnings.length > 0) lines.push(`  warnings: ${lhr.runWarnings.join(' | ')}`);
  return lines;
}

/**
 * One navigation with Lighthouse's default config: the mobile preset (a Moto G Power's
 * screen, simulated slow 4G and a 4× slower CPU). Lighthouse resets the origin's storage
 * first, service worker included, so every run is a first visit: the name prompt.
 */
async function runLighthouse(url: string): Promise<LighthouseRun> {
  // A browser of its own (chrome-launcher makes a fresh profile for each): Lighthouse
  // clears the origin's storage too, but warns about the IndexedDB a previous run left.
  const chrome = await launch({
    chromePath: CHROMIUM_PATH,
    // Headless, and quiet as the other browser benchmarks (no sandbox: root in CI).
    chromeFlags: ['--headless=new', ...QUIET_ARGS],
    logLevel: 'silent',
  });
  let result: Awaited<ReturnType<typeof lighthouse>>;
  try {
    result = await lighthouse(url, {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: CATEGORIES.map((category) => category.id),
    });
  } finally {
    chrome.kill();
  }
  if (!result) throw new Error('Lighthouse returned no result');
  const { lhr } = result;
  if (lhr.runtimeError) {
    throw new Error(`Lighthouse: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
  }
  const score = (id: CategoryId): number => {
    const value = lhr.categories[id]?.score;
    // A null score means the category could not be computed (an audit errored): NaN, so
    // the goal reads missed rather than passing on a missing figure.
    return typeof value === 'number' ? Math.round(value * 100) : Number.NaN;
  };
  const scores: Record<CategoryId, number> = {
    performance: score('performance'),
    accessibility: score('accessibility'),
    'best-practices': score('best-practices'),
    seo: score('seo'),
  };
  return { scores, lines: describeRun(lhr, scores) };
}

/**
 * A run, tried again when Lighthouse itself failed: now and then headless Chromium's trace
 * misses the navigation's start (NO_NAVSTART), which says nothing about the page.
 */
async function runWithRetries(url: string): Promise<LighthouseRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runLighthouse(url);
    } catch (error) {
      if (attempt >= RUN_ATTEMPTS) throw error;
      console.log(`lighthouse run failed, trying again: ${String(error)}`);
    }
  }
}

/**
 * Benchmark 11: Lighthouse against the production build served by Ferry's own server
 * (its headers, its compression), on Debian's Chromium. Scores move by a few points from
 * run to run, so each row is the median of `lighthouse.runs` runs (fewer with --reps).
 */
export async function benchLighthouse(config: BenchConfig): Promise<ReportRow[]> {
  const runs = Math.max(1, Math.min(config.reps, config.lighthouse.runs));
  const build = await buildApp('lighthouse');
  const server = await spawnServer('ferry', { staticDir: build.dir });
  try {
    const samples: LighthouseRun[] = [];
    for (let run = 0; run < runs; run++) {
      const sample = await runWithRetries(`${server.url}/`);
      console.log(`lighthouse run ${run + 1}/${runs}: ${sample.lines.join('\n')}`);
      samples.push(sample);
    }
    return CATEGORIES.map((category) =>
      makeRow({
        name: `lighthouse (mobile, first visit): ${category.name}`,
        unit: 'score',
        better: 'higher',
        ferry: samples.map((sample) => sample.scores[category.id]),
        goal: {
          text: `>= ${GOAL_SCORE}`,
          criteria: [{ figure: 'ferry', op: '>=', value: GOAL_SCORE }],
        },
      }),
    );
  } finally {
    await server.stop();
    build.dispose();
  }
}
