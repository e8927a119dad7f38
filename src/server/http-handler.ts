import type { IncomingMessage, ServerResponse } from 'node:http';
import { createStaticFiles } from './static-files.ts';

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
 * Serves `GET /healthz`, the API, and the built app (see static-files.ts). socket.io
 * handles its own path before this. Without `staticDir` only /healthz and the API answer.
 */
export function createHttpHandler(
  staticDir: string,
  handleApi: (req: IncomingMessage, res: ServerResponse) => boolean,
): HttpHandler {
  const serveStatic = staticDir ? createStaticFiles(staticDir) : null;

  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0];
    // Liveness: the process answers, touching nothing. Readiness (the database) is /readyz.
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (handleApi(req, res)) return;
    if (serveStatic && (req.method === 'GET' || req.method === 'HEAD')) {
      serveStatic(req, res).catch(() => {
        if (res.headersSent) res.destroy();
        else notFound(res);
      });
      return;
    }
    notFound(res);
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not found');
}
