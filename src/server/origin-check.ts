import type { IncomingMessage } from 'node:http';

/**
 * WebSockets are not covered by CORS, so the handshake checks the Origin itself: a page on
 * another site must not open a socket with the user's browser. Nor is a "simple" POST
 * (no preflight), so sign-ups check it too: a page on another site must not spend the
 * sign-up budget of its visitors' address. Allowed: no Origin at all (not a browser:
 * native apps, tests, curl), the server's own origin (Origin's host equals the Host
 * header), and the configured allowlist. `Origin: null` (sandboxed frames, files) is not.
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
