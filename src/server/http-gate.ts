import type { IncomingMessage, ServerResponse } from 'node:http';
import { InFlight } from './in-flight.ts';

type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Paths still answered while the server shuts down: the process is alive until it exits. */
const ALWAYS_ANSWERED = new Set(['/healthz']);

export interface HttpGate {
  handler: HttpHandler;
  /**
   * Refuses every request from now on (503, `Retry-After`, the connection closed after the
   * answer) but liveness, and resolves once every request taken before is answered.
   */
  stop(): Promise<void>;
}

/** Counts the HTTP requests `inner` is answering, so that a shutdown can wait for them. */
export function gateHttp(inner: HttpHandler): HttpGate {
  const inFlight = new InFlight();
  let stopped = false;
  return {
    handler(req, res) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (stopped && !ALWAYS_ANSWERED.has(path)) {
        res.writeHead(503, {
          'Content-Type': 'application/json',
          'Retry-After': '1',
          Connection: 'close',
          'Cache-Control': 'no-store',
        });
        res.end(
          JSON.stringify({
            ok: false,
            error: { code: 'internal', message: 'the server is shutting down; try again' },
          }),
        );
        return;
      }
      // `close` comes once the answer is sent, or the connection is gone without it.
      res.once('close', inFlight.begin());
      inner(req, res);
    },
    stop() {
      stopped = true;
      return inFlight.idle();
    },
  };
}
