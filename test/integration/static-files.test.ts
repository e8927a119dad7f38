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
