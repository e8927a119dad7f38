import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VITE_CLI = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');

export interface AppBuild {
  /** The built app, for FERRY_STATIC_DIR. */
  dir: string;
  buildId: string;
  dispose(): void;
}

/**
 * Builds the app (client and service worker) into a temporary folder, named `buildId`
 * (the page shows it as `<html data-build>`). Two builds with different ids differ in
 * their bundle, so the second one is a real update for the first one's service worker.
 * `env` adds build-time variables, e.g. the test-only VITE_FERRY_TEST_DB_VERSION_BUMP.
 */
export async function buildApp(
  buildId: string,
  options: { env?: Record<string, string> } = {},
): Promise<AppBuild> {
  const dir = mkdtempSync(join(tmpdir(), `ferry-e2e-build-${buildId}-`));
  const output: string[] = [];
  const child = spawn(
    process.execPath,
    [VITE_CLI, 'build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env, VITE_FERRY_BUILD_ID: buildId },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`vite build failed (exit ${code}):\n${output.join('')}`);
  }
  return { dir, buildId, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
