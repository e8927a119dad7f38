// `npm run bench`: every benchmark, Ferry against its baselines in the same run, then the
// table, bench/results.json and docs/benchmarks.md. Options (for working on one benchmark):
//   --only=flush,merge   run some benchmarks (ids in bench/suite.ts); prints, writes nothing
//   --reps=N             repetitions instead of the configured 5
//   --write              write results.json and docs/benchmarks.md even for a partial run
// Set BENCH_CPU_PROF_DIR=dir to get a CPU profile of every server process.
import 'fake-indexeddb/auto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM_PATH, chromiumAvailable } from '../test/support/chromium-binary.ts';
import { FULL_CONFIG } from './config.ts';
import { describeMachine, loadAverage, machineLine } from './machine.ts';
import { type RunSummary, renderTable, writeMarkdown, writeResults } from './report.ts';
import type { ReportRow } from './rows.ts';
import { BENCHMARKS } from './suite.ts';

/** The whole run should fit in this; the summary says by how much a run went over. */
const BUDGET_S = 5 * 60;
const RESULTS_PATH = fileURLToPath(new URL('./results.json', import.meta.url));
const MARKDOWN_PATH = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const NOTES_PATH = fileURLToPath(new URL('./notes.md', import.meta.url));

const USAGE = 'usage: npm run bench [-- --only=id,id] [--reps=N] [--write]';

interface RunOptions {
  only: string[] | undefined;
  reps: number | undefined;
  write: boolean;
}

/** Reads the flags; throws on an unknown flag or a bad value rather than run everything. */
function parseCommandLine(args: string[]): RunOptions {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      reps: { type: 'string' },
      write: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const reps = values.reps === undefined ? undefined : Number(values.reps);
  if (reps !== undefined && !(Number.isInteger(reps) && reps > 0)) {
    throw new Error(`--reps must be a whole number above 0, got "${values.reps}"`);
  }
  return { only: values.only?.split(','), reps, write: values.write };
}

async function main(): Promise<number> {
  let options: RunOptions;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { only } = options;
  const config = options.reps ? { ...FULL_CONFIG, reps: options.reps } : FULL_CONFIG;
  const unknown = only?.filter((id) => !BENCHMARKS.some((bench) => bench.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.id).join(', ')}`,
    );
    return 2;
  }
  const machine = describeMachine();
  const date = new Date().toISOString();
  console.log(
    `Ferry benchmarks, ${date}\n${machineLine(machine)}\n${config.reps} repetitions each\n`,
  );

  const started = performance.now();
  const rows: ReportRow[] = [];
  const skipped: string[] = [];
  let failed = false;
  for (const bench of BENCHMARKS) {
    if (only && !only.includes(bench.id)) continue;
    if (bench.chromium && !chromiumAvailable()) {
      const reason = `${bench.title}: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
      console.log(`skipped ${reason}\n`);
      skipped.push(reason);
      continue;
    }
    const benchStarted = performance.now();
    console.log(`${bench.title} …`);
    try {
      const benchRows = await bench.run(config);
      rows.push(...benchRows);
      const seconds = ((performance.now() - benchStarted) / 1_000).toFixed(1);
      console.log(`${renderTable(benchRows)}\n(${seconds} s)\n`);
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`${bench.title} failed: ${message}\n`);
      skipped.push(
        `${bench.title}: failed (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  const durationS = (performance.now() - started) / 1_000;

  console.log(`All results (${durationS.toFixed(0)} s; budget ${BUDGET_S} s)\n`);
  console.log(renderTable(rows));
  const missed = rows.filter((row) => row.met === false).length;
  const met = rows.filter((row) => row.met === true).length;
  console.log(`\nGoals: ${met} met, ${missed} missed.`);
  if (durationS > BUDGET_S)
    console.log(`Over the ${BUDGET_S} s budget by ${(durationS - BUDGET_S).toFixed(0)} s.`);

  if (!only || options.write) {
    const command = ['npm run bench', ...process.argv.slice(2).map((arg) => `-- ${arg}`)].join(' ');
    const summary: RunSummary = {
      machine,
      date,
      rows,
      durationS,
      loadAverageAtEnd: loadAverage(),
      command,
      skipped,
    };
    writeResults(RESULTS_PATH, summary);
    writeMarkdown(MARKDOWN_PATH, summary, NOTES_PATH);
    console.log(`\nWrote ${RESULTS_PATH} and ${MARKDOWN_PATH}.`);
  }
  return failed ? 1 : 0;
}

// Child processes and sockets are all closed by then; exit explicitly in case a library
// left a timer behind.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
