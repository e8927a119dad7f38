import type { IncomingMessage } from 'node:http';

/**
 * WebSockets are not covered by CORS, so the handshake checks the Origin itself: a page on
 * another site must not open a socket with the user's browser. Allowed: no Origin at all
 * (not a browser: native apps, tests, curl), the server's own origin (Origin's host equals
 * the Host header), and the configured allowlist.
 */
export function createOriginCheck(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins.map((origin) => origin.toLowerCase()));
  return function isAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (allowed.has(origin.toLowerCase())) return true;
    try {
      return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  };
}
