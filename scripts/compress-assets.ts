// Build step: a brotli (`.br`) and a gzip (`.gz`) copy beside every text file of the built
// app, made once at build time so the server (src/server/static-files.ts) sends them
// without compressing anything per request. See docs/pwa.md, "Compressed assets".
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

/**
 * The types worth compressing: text (and .ico, which is often uncompressed bitmaps).
 * Images and fonts (png, webp, woff2) are compressed already. Source maps are left out:
 * only devtools fetch them, and brotli's best quality over megabytes of map slows every
 * build. The server sends `Vary: Accept-Encoding` for these types.
 */
export const COMPRESSIBLE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.svg',
  '.json',
  '.webmanifest',
  '.txt',
  '.xml',
  '.ico',
  '.wasm',
]);

/**
 * Below this a file fits in one packet anyway: a compressed copy saves nothing. Low enough
 * that the app shell (index.html, about 0.9 kB) is compressed.
 */
export const MIN_COMPRESS_BYTES = 512;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** One file's sizes, raw and compressed (null: that copy was not smaller, so not written). */
export interface CompressedFile {
  /** Relative to the compressed folder, with `/` separators. */
  path: string;
  bytes: number;
  gzipBytes: number | null;
  brotliBytes: number | null;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Writes `data` to `path` if it is smaller than the original; its size, or null. */
async function writeIfSmaller(path: string, data: Buffer, originalBytes: number) {
  if (data.length >= originalBytes) return null;
  await writeFile(path, data);
  return data.length;
}

async function compressFile(dir: string, path: string): Promise<CompressedFile | null> {
  const raw = await readFile(path);
  if (raw.length < MIN_COMPRESS_BYTES) return null;
  const [brotliData, gzipData] = await Promise.all([
    brotli(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    }),
    gzipAsync(raw, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  return {
    path: relative(dir, path).split('\\').join('/'),
    bytes: raw.length,
    brotliBytes: await writeIfSmaller(`${path}.br`, brotliData, raw.length),
    gzipBytes: await writeIfSmaller(`${path}.gz`, gzipData, raw.length),
  };
}

/**
 * Writes `<file>.br` and `<file>.gz` beside every file under `dir` whose extension is in
 * COMPRESSIBLE_EXTENSIONS and whose size is at least MIN_COMPRESS_BYTES, replacing any
 * copies already there. A copy that would not be smaller than its file is not written.
 */
export async function compressDir(dir: string): Promise<CompressedFile[]> {
  const files = (await filesUnder(dir)).filter((path) =>
    COMPRESSIBLE_EXTENSIONS.has(extname(path).toLowerCase()),
  );
  const results = await Promise.all(files.map((path) => compressFile(dir, path)));
  return results.filter((result) => result !== null);
}

function kilobytes(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} kB`;
}

/**
 * The Vite plugin: compresses the output folder once the build is written. Its
 * `closeBundle` runs last (`order: 'post'`, sequential), after vite-plugin-pwa's, which
 * writes sw.js then, so the service worker is compressed too. The precache list is made
 * before this runs, and its glob does not match .br/.gz anyway.
 */
export function compressAssets(): Plugin {
  let outDir = '';
  let log: (message: string) => void = () => {};
  return {
    name: 'ferry:compress-assets',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      log = (message) => config.logger.info(message);
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      async handler(error) {
        if (error) return;
        const files = await compressDir(outDir);
        const total = (pick: (file: CompressedFile) => number | null) =>
          files.reduce((sum, file) => sum + (pick(file) ?? file.bytes), 0);
        const withCopies = files.filter((file) => file.brotliBytes ?? file.gzipBytes);
        log(
          `compressed ${withCopies.length} files: ${kilobytes(total((file) => file.bytes))} → ` +
            `${kilobytes(total((file) => file.gzipBytes))} gzip, ` +
            `${kilobytes(total((file) => file.brotliBytes))} brotli`,
        );
      },
    },
  };
}
