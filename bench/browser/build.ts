import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const PAGE_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Under bench/.tmp/ (git-ignored). */
const OUT_DIR = fileURLToPath(new URL('../.tmp/bench-page/', import.meta.url));

/**
 * Builds the bench page (its own entry; nothing of src/ui) and answers the folder to serve.
 * The repository's vite.config.ts is not used: the page needs neither React nor the PWA.
 */
export async function buildBenchPage(): Promise<string> {
  await build({
    configFile: false,
    root: PAGE_DIR,
    logLevel: 'warn',
    build: { outDir: OUT_DIR, emptyOutDir: true, sourcemap: false },
  });
  return OUT_DIR;
}
