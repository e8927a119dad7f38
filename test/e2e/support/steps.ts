import { onTestFailed } from 'vitest';

/**
 * Notes the steps of a browser test with their times; if the test fails (a timeout
 * included), prints them with `context()` (say, the server's log), so a failure in CI
 * says how far the scenario got and how long each step took.
 */
export function recordSteps(context: () => string = () => ''): (step: string) => void {
  const started = Date.now();
  const steps: string[] = [];
  onTestFailed(() => {
    console.error(`steps, ms since the test started:\n${steps.join('\n')}\n${context()}`);
  });
  return (step) => {
    steps.push(`${String(Date.now() - started).padStart(7)}  ${step}`);
  };
}
