import { afterEach } from 'vitest';

type Cleanup = () => Promise<void> | void;

/**
 * Things a test started (servers, engines, temp folders), undone after each test in
 * reverse order, whether the test passed or not. Call inside a `describe`.
 */
export function cleanupsAfterEach(): { push(...cleanups: Cleanup[]): void } {
  const pending: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return { push: (...cleanups) => void pending.push(...cleanups) };
}
