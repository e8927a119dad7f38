import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerMetrics } from './metrics.ts';
import { hashSecret, secretMatches } from './secrets.ts';

export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics`: the Prometheus text of `metrics`. With a `token` (FERRY_METRICS_TOKEN) a
 * scrape must send `Authorization: Bearer <token>`, compared in constant time; without one
 * the route is open, and the reverse proxy must keep it off the internet (see
 * docs/operations.md, "Metrics"). Answers true when the request was for this route.
 */
export function createMetricsRoute(metrics: ServerMetrics, token: string | null) {
  const tokenHash = token === null ? null : hashSecret(token);
  return function serveMetrics(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('use GET');
      return true;
    }
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (tokenHash !== null && !(presented && secretMatches(presented, tokenHash))) {
      res.writeHead(401, {
        'WWW-Authenticate': 'Bearer realm="metrics"',
        'Content-Type': 'text/plain; charset=utf-8',
      });
      res.end('a Bearer token is required (FERRY_METRICS_TOKEN)');
      return true;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('the metrics could not be collected');
      },
    );
    return true;
  };
}
