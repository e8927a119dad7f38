import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { compressDir, MIN_COMPRESS_BYTES } from '../../scripts/compress-assets.ts';
import { tempDir } from '../support/server.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A folder laid out like `vite build`'s, with `files` (path → content) written in it. */
function builtApp(files: Record<string, string | Buffer>): string {
  const dir = tempDir('ferry-compress-');
  cleanups.push(dir.dispose);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir.path, path, '..'), { recursive: true });
    writeFileSync(join(dir.path, path), content);
  }
  return dir.path;
}

describe('compressDir: the copies the build writes beside each text file', () => {
  const bigScript = "export const line = 'a line of the app, repeated';\n".repeat(100);

  it('writes .br and .gz beside large text files, each decoding to the original bytes', async () => {
    const dir = builtApp({
      'assets/index-abc.js': bigScript,
      'assets/index-abc.css': '.a { color: red; }\n'.repeat(100),
      'sw.js': bigScript,
      'index.html': `<!doctype html>${'<p>shell</p>'.repeat(100)}`,
    });
    const compressed = await compressDir(dir);
    expect(compressed.map((file) => file.path).sort()).toEqual([
      'assets/index-abc.css',
      'assets/index-abc.js',
      'index.html',
      'sw.js',
    ]);
    for (const file of compressed) {
      const original = readFileSync(join(dir, file.path));
      const brotli = readFileSync(join(dir, `${file.path}.br`));
      const gzip = readFileSync(join(dir, `${file.path}.gz`));
      expect(brotliDecompressSync(brotli).equals(original), file.path).toBe(true);
      expect(gunzipSync(gzip).equals(original), file.path).toBe(true);
      expect(file).toEqual({
        path: file.path,
        bytes: original.length,
        brotliBytes: brotli.length,
        gzipBytes: gzip.length,
      });
      expect(brotli.length).toBeLessThan(original.length);
    }
  });

  it('leaves small files, images, fonts and source maps alone', async () => {
    const dir = builtApp({
      'manifest.webmanifest': '{"name":"Ferry"}',
      'assets/tiny.js': 'x'.repeat(MIN_COMPRESS_BYTES - 1),
      'pwa-512x512.png': Buffer.alloc(4096),
      'assets/font.woff2': Buffer.alloc(4096),
      'assets/index-abc.js.map': bigScript,
    });
    expect(await compressDir(dir)).toEqual([]);
    for (const path of ['manifest.webmanifest', 'assets/tiny.js', 'pwa-512x512.png']) {
      expect(existsSync(join(dir, `${path}.br`)), path).toBe(false);
      expect(existsSync(join(dir, `${path}.gz`)), path).toBe(false);
    }
    expect(existsSync(join(dir, 'assets/index-abc.js.map.br'))).toBe(false);
  });

  it('writes no copy that would not be smaller than its file', async () => {
    // Random bytes do not compress: neither copy would save anything.
    const noise = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(Math.random() * 256)));
    const dir = builtApp({ 'favicon.ico': noise });
    expect(await compressDir(dir)).toEqual([
      { path: 'favicon.ico', bytes: 4096, brotliBytes: null, gzipBytes: null },
    ]);
    expect(existsSync(join(dir, 'favicon.ico.br'))).toBe(false);
    expect(existsSync(join(dir, 'favicon.ico.gz'))).toBe(false);
  });

  it('replaces copies left by an earlier run, and never compresses a copy', async () => {
    const dir = builtApp({ 'sw.js': bigScript });
    await compressDir(dir);
    writeFileSync(join(dir, 'sw.js'), bigScript.toUpperCase());
    const again = await compressDir(dir);
    expect(again.map((file) => file.path)).toEqual(['sw.js']);
    expect(brotliDecompressSync(readFileSync(join(dir, 'sw.js.br'))).toString()).toBe(
      bigScript.toUpperCase(),
    );
    expect(existsSync(join(dir, 'sw.js.br.br'))).toBe(false);
    expect(gunzipSync(readFileSync(join(dir, 'sw.js.gz'))).toString()).toBe(
      bigScript.toUpperCase(),
    );
  });
});
