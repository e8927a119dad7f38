import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** Whether `command` runs here (answers `args` with exit code 0). */
function runs(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need a command-line tool (openssl, prlimit). Without it they
 * are skipped loudly, except in CI, where they run and fail: CI must never pass without
 * them.
 */
export function describeWithCommand(command: string, args: readonly string[]) {
  const available = runs(command, args);
  if (!available) {
    console.warn(
      inCi
        ? `CI: \`${command}\` is missing, so the tests that need it FAIL.`
        : `SKIPPING tests that need \`${command}\`: it is not installed.`,
    );
  }
  return describe.skipIf(!available && !inCi);
}
