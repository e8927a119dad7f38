import type { IncomingMessage, ServerResponse } from 'node:http';
import { secretSchema } from '../shared/schemas.ts';
import { isStoreBusy, STORE_RETRY_AFTER_MS } from './store/store-errors.ts';

/**
 * What the JSON APIs over plain HTTP (`/api/session`, `/api/messages`) share: reading a
 * bounded body, the Bearer token, and answers that are never cached.
 */

/** Answers `body` as JSON. API answers carry tokens and per-user results: never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Answers an error in the shape every API error has: `{ok: false, error: {code, message}}`.
 * One that asks the client to come back later carries the wait twice: `retryAfterMs` in the
 * body, which is where Ferry's clients read it (as in a socket ack), and a `Retry-After`
 * header for everything else that speaks HTTP.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  retryAfterMs?: number,
): void {
  if (retryAfterMs === undefined) {
    sendJson(res, status, { ok: false, error: { code, message } });
    return;
  }
  setRetryAfter(res, retryAfterMs);
  sendJson(res, status, { ok: false, error: { code, message, retryAfterMs } });
}

/** Sets `Retry-After` to a wait in whole seconds, rounded up so that it is never too short. */
export function setRetryAfter(res: ServerResponse, retryAfterMs: number): void {
  res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1_000)));
}

/**
 * Answers a request whose handler threw, unless an answer is already on its way. A store
 * that another process holds locked is `503` with a `Retry-After`: the request was fine and
 * a retry soon may pass. Anything else is the server's fault, `500`.
 */
export function sendFailure(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return;
  if (isStoreBusy(error)) {
    sendError(res, 503, 'internal', 'the server is busy; try again shortly', STORE_RETRY_AFTER_MS);
    return;
  }
  sendError(res, 500, 'internal', 'the server failed');
}

/**
 * Whether the body is declared JSON. A page on another site can post `text/plain`, a form
 * or no type at all without a CORS preflight; `application/json` it cannot (nor can it send
 * an `Authorization` header), and the server answers no preflight, so this check keeps
 * other sites' pages out together with the Origin check (sign-up) or the Bearer token.
 */
export function isJson(req: IncomingMessage): boolean {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0] ?? '';
  return mediaType.trim().toLowerCase() === 'application/json';
}

/**
 * The session token of an `Authorization: Bearer <token>` header, or null when there is
 * none or it cannot be a token. The token is a credential: it is never logged.
 */
export function bearerToken(req: IncomingMessage): string | null {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  return token && secretSchema.safeParse(token).success ? token : null;
}

/** A request body: its text, or too large (read and thrown away), or cut (connection gone). */
type Body = { kind: 'text'; text: string } | { kind: 'too_large' } | { kind: 'cut' };

export interface BodyLimits {
  /** The largest body answered; a bigger one is `too_large`. */
  maxBytes: number;
  /**
   * A body over `maxBytes` is still read, and thrown away, up to this size, so that the
   * 413 reaches the client: closing a connection with unread data resets it, and the client
   * sees a dropped connection instead of the answer. Past it, the connection is cut.
   */
  maxDrainedBytes: number;
}

/** Reads a body of at most `maxBytes`, holding no more than that in memory; never rejects. */
function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Body> {
  const { maxBytes, maxDrainedBytes } = limits;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxDrainedBytes) {
        req.destroy();
        resolve({ kind: 'cut' });
      } else if (size <= maxBytes) {
        chunks.push(chunk);
      }
    });
    req.on('end', () =>
      resolve(
        size > maxBytes
          ? { kind: 'too_large' }
          : { kind: 'text', text: Buffer.concat(chunks).toString('utf8') },
      ),
    );
    // An error here is the connection failing (an aborted upload): nobody is left to answer,
    // and a client that aborts on purpose must not be able to fill the log. A close before
    // the end is the same; after it, the promise is settled already and this does nothing.
    req.on('error', () => resolve({ kind: 'cut' }));
    req.on('close', () => resolve({ kind: 'cut' }));
  });
}

/**
 * Reads and parses a JSON body. A body over `maxBytes` is answered `413`, one that is not
 * JSON `400`, both `invalid_payload`; then, or when the connection was cut, this resolves
 * null and the request is done with.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
): Promise<{ json: unknown } | null> {
  const body = await readBody(req, limits);
  if (body.kind === 'cut') return null;
  if (body.kind === 'too_large') {
    res.setHeader('Connection', 'close');
    sendError(res, 413, 'invalid_payload', `the body must be at most ${limits.maxBytes} bytes`);
    return null;
  }
  try {
    return { json: JSON.parse(body.text) };
  } catch {
    sendError(res, 400, 'invalid_payload', 'the body must be JSON');
    return null;
  }
}
