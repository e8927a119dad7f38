import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/** Files that must be revalidated on every load, so a new deploy is picked up at once. */
const NO_CACHE_FILES = new Set(['/index.html', '/sw.js', '/manifest.webmanifest', '/']);

/**
 * No inline script or style, no plugins, no framing; the socket and the API are same-origin
 * (CSP's 'self' covers ws: and wss: to the same host).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves `GET /healthz`, the API, and the built app: hashed `/assets/*` are immutable, the
 * shell and the service worker are `no-cache`. socket.io handles its own path before this.
 */
export function createHttpHandler(
  staticDir: string,
  handleApi: (req: IncomingMessage, res: ServerResponse) => boolean,
): HttpHandler {
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
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (handleApi(req, res)) return;
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
