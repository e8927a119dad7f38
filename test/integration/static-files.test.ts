import { writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppBuildFiles, writeAppBuild } from '../support/app-fixture.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

describe('the built app over HTTP', () => {
  const dir = tempDir();
  const appDir = `${dir.path}/dist`;
  let build: AppBuildFiles;
  let server: TestServer;

  beforeAll(async () => {
    build = writeAppBuild(appDir, 1);
    server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { staticDir: appDir },
    });
  });

  afterAll(async () => {
    await server.stop();
    dir.dispose();
  });

  it('serves a hashed asset as immutable', async () => {
    const response = await fetch(`${server.url}${build.scriptPath}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(response.headers.get('Cache-Control')).toBe(IMMUTABLE);
    expect(await response.text()).toBe(build.script);
  });

  it.each([
    '/assets/missing',
    '/assets/index-missing.js',
    '/favicon-missing.png',
    '/deep/link/style.css',
  ])('answers %s, a missing file, with 404 instead of the app', async (path) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('Cache-Control') ?? '').not.toMatch(/immutable|max-age=[1-9]/);
    expect(await response.text()).not.toContain('<!doctype html>');
  });

  it.each(['/', '/some/deep/link', '/rooms'])(
    'serves the app shell at %s marked no-cache, so a deploy is seen at once',
    async (path) => {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
      expect(response.headers.get('Cache-Control')).toBe('no-cache');
      expect(await response.text()).toBe(build.index);
    },
  );

  it.each(['/sw.js', '/manifest.webmanifest', '/index.html'])(
    'serves %s marked no-cache',
    async (path) => {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('Cache-Control')).toBe('no-cache');
    },
  );

  it('answers a revalidation of an unchanged file with 304', async () => {
    const first = await fetch(`${server.url}/sw.js`);
    const etag = first.headers.get('ETag');
    expect(etag).toBeTruthy();
    const again = await fetch(`${server.url}/sw.js`, { headers: { 'If-None-Match': `${etag}` } });
    expect(again.status).toBe(304);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const response = await fetch(`${server.url}${build.scriptPath}`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Length')).toBe(String(Buffer.byteLength(build.script)));
    expect(await response.text()).toBe('');
  });

  it.each(['/../ferry.db', '/%2e%2e/ferry.db', '/assets/..%2f..%2fferry.db', '/%00', '/%E0%A4%A'])(
    'serves nothing outside the app folder for %s',
    async (path) => {
      const response = await fetch(`${server.url}${path}`);
      expect([400, 404]).toContain(response.status);
      expect(await response.text()).not.toContain('SQLite');
    },
  );

  it('serves a rebuilt app without a restart: the new assets, and the new shell', async () => {
    const rebuilt = writeAppBuild(appDir, 2);
    const script = await fetch(`${server.url}${rebuilt.scriptPath}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('Cache-Control')).toBe(IMMUTABLE);
    expect(await script.text()).toBe(rebuilt.script);
    expect(await (await fetch(`${server.url}/some/deep/link`)).text()).toBe(rebuilt.index);
  });
});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** As sent, not decoded. */
  body: Buffer;
}

/** A request with exactly these headers (fetch would add Accept-Encoding and decode). */
function send(url: string, headers: Record<string, string>, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        }),
      );
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function decode(answer: RawAnswer): string {
  const encoding = answer.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(answer.body).toString();
  if (encoding === 'gzip') return gunzipSync(answer.body).toString();
  expect(encoding).toBeUndefined();
  return answer.body.toString();
}

/** Writes `path` under `dir` with the compressed copies named by `copies`, as the build does. */
function writeWithCopies(dir: string, path: string, text: string, copies: ('br' | 'gz')[]) {
  writeFileSync(join(dir, path), text);
  if (copies.includes('br')) writeFileSync(join(dir, `${path}.br`), brotliCompressSync(text));
  if (copies.includes('gz')) writeFileSync(join(dir, `${path}.gz`), gzipSync(text));
}

describe('compressed copies made by the build', () => {
  const dir = tempDir();
  const appDir = `${dir.path}/dist`;
  const script = `${"export const greeting = 'hello from a compressed script';\n".repeat(60)}`;
  const styles = `${'.message { color: #222; margin: 0 0 4px; }\n'.repeat(60)}`;
  const index = `<!doctype html><title>Ferry</title>${'<meta name="x" content="y">'.repeat(60)}\n`;
  let build: AppBuildFiles;
  let server: TestServer;

  beforeAll(async () => {
    build = writeAppBuild(appDir, 1);
    writeWithCopies(appDir, 'assets/app-1.js', script, ['br', 'gz']);
    writeWithCopies(appDir, 'assets/app-1.css', styles, ['gz']);
    writeWithCopies(appDir, 'index.html', index, ['br', 'gz']);
    writeWithCopies(appDir, 'sw.js', script, ['br', 'gz']);
    writeFileSync(join(appDir, 'icon.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    server = await startTestServer({
      dbPath: `${dir.path}/ferry.db`,
      serverOptions: { staticDir: appDir },
    });
  });

  afterAll(async () => {
    await server.stop();
    dir.dispose();
  });

  it.each([
    ['gzip, deflate, br, zstd', 'br'], // Chromium's: equal q-values, brotli is smaller
    ['br', 'br'],
    ['*', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'], // the client's ranking wins over ours
    ['gzip, *;q=0', 'gzip'],
    ['br;q=0.1, identity', undefined],
    ['deflate', undefined],
    ['br;q=0, gzip;q=0', undefined],
    ['*;q=0', undefined],
    ['identity;q=0', undefined], // nothing acceptable: the file itself, not a 406
    ['', undefined],
  ])('answers Accept-Encoding "%s" with %s', async (accept, expected) => {
    const headers: Record<string, string> = accept ? { 'Accept-Encoding': accept } : {};
    const answer = await send(`${server.url}/assets/app-1.js`, headers);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe(expected);
    expect(answer.headers.vary).toBe('Accept-Encoding');
    expect(answer.headers['content-type']).toMatch(/^text\/javascript/);
    expect(answer.headers['cache-control']).toBe(IMMUTABLE);
    expect(answer.headers['content-length']).toBe(String(answer.body.length));
    expect(decode(answer)).toBe(script);
  });

  it('sends gzip when brotli is accepted but the build made no .br copy', async () => {
    const answer = await send(`${server.url}/assets/app-1.css`, { 'Accept-Encoding': 'br, gzip' });
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(answer.headers['content-type']).toMatch(/^text\/css/);
    expect(decode(answer)).toBe(styles);
  });

  it('sends a text file without copies as it is, still marked Vary', async () => {
    const answer = await send(`${server.url}${build.scriptPath}`, {
      'Accept-Encoding': 'br, gzip',
    });
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.headers.vary).toBe('Accept-Encoding');
    expect(answer.body.toString()).toBe(build.script);
  });

  it('does not mark an image, never compressed, with Vary', async () => {
    const answer = await send(`${server.url}/icon.png`, { 'Accept-Encoding': 'br, gzip' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.headers.vary).toBeUndefined();
  });

  it.each(['/', '/index.html', '/rooms/deep/link'])(
    'sends the app shell at %s compressed, still no-cache',
    async (path) => {
      const answer = await send(`${server.url}${path}`, { 'Accept-Encoding': 'gzip, br' });
      expect(answer.headers['content-encoding']).toBe('br');
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(decode(answer)).toBe(index);
    },
  );

  it('keeps /sw.js no-cache when compressed', async () => {
    const answer = await send(`${server.url}/sw.js`, { 'Accept-Encoding': 'gzip' });
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('tags each encoding apart, and revalidates each against its own tag', async () => {
    const url = `${server.url}/sw.js`;
    const accepts = ['br', 'gzip', 'identity'];
    const tags = await Promise.all(
      accepts.map(async (accept) => (await send(url, { 'Accept-Encoding': accept })).headers.etag),
    );
    expect(new Set(tags).size).toBe(3);
    for (const [i, accept] of accepts.entries()) {
      const tag = `${tags[i]}`;
      const same = await send(url, { 'Accept-Encoding': accept, 'If-None-Match': tag });
      expect(same.status, accept).toBe(304);
      expect(same.headers.vary).toBe('Accept-Encoding');
      expect(same.headers.etag).toBe(tag);
      expect(same.body.length).toBe(0);
      const other = accepts[(i + 1) % accepts.length] ?? '';
      const changed = await send(url, { 'Accept-Encoding': other, 'If-None-Match': tag });
      expect(changed.status, `${tag} for ${other}`).toBe(200);
      expect(decode(changed)).toBe(script);
    }
  });

  it('answers HEAD with the compressed length and no body', async () => {
    const url = `${server.url}/assets/app-1.js`;
    const head = await send(url, { 'Accept-Encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.headers['content-length']).toBe(String(brotliCompressSync(script).length));
    expect(head.body.length).toBe(0);
  });

  it.each(['/assets/app-1.js.br', '/assets/app-1.js.gz', '/index.html.br', '/sw.js.GZ'])(
    'answers %s, a compressed copy asked for by its own name, with 404',
    async (path) => {
      const answer = await send(`${server.url}${path}`, { 'Accept-Encoding': 'br, gzip' });
      expect(answer.status).toBe(404);
      expect(answer.headers['content-encoding']).toBeUndefined();
    },
  );
});
