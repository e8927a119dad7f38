// `npm test`: every vitest suite, then one plain closing line `N passed, N failed` that CI
// reads to know tests ran (vitest's own summary is not in that form).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const resultsFile = '.test-results/vitest.json';
mkdirSync('.test-results', { recursive: true });
rmSync(resultsFile, { force: true });

const run = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

let summary;
try {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
  summary = {
    passed: report.numPassedTests,
    failed: report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0),
    skipped: report.numPendingTests + report.numTodoTests,
  };
} catch {
  summary = { passed: 0, failed: 1, skipped: 0 };
  console.error('no test report was written: the test run itself failed');
}

const failed = run.status !== 0 && summary.failed === 0 ? 1 : summary.failed;
console.log(`\n${summary.passed} passed, ${failed} failed, ${summary.skipped} skipped`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
