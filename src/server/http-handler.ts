import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/** Files that must be revalidated on every load, so a new deploy is picked up at once. */
const NO_CACHE_FILES = new Set(['/index.html', '/sw.js', '/manifest.webmanifest', '/']);

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves `GET /healthz` and the built app: hashed `/assets/*` are immutable, the shell and
 * the service worker are `no-cache`. socket.io handles its own path before this runs.
 */
export function createHttpHandler(staticDir: string): HttpHandler {
  const serveStatic = existsSync(staticDir)
    ? sirv(staticDir, {
        etag: true,
        gzip: false,
        single: true,
        setHeaders(res, pathname) {
          if (pathname.startsWith('/assets/')) {
            res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
          } else if (NO_CACHE_FILES.has(pathname)) {
            res.setHeader('Cache-Control', 'no-cache');
          } else {
            res.setHeader('Cache-Control', 'public, max-age=3600');
          }
        },
      })
    : null;

  return (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (serveStatic && (req.method === 'GET' || req.method === 'HEAD')) {
      serveStatic(req, res, () => notFound(res));
      return;
    }
    notFound(res);
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found');
}
