import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SESSION_TOKEN_BYTES } from '../shared/limits.ts';
import type { Session } from '../shared/protocol.ts';
import { createSessionRequestSchema, secretSchema } from '../shared/schemas.ts';
import { hashSecret, newSecret } from './secrets.ts';
import type { AccountStore } from './store/account-store.ts';
import type { TokenBuckets } from './token-bucket.ts';

/** A sign-up is a name in a tiny JSON body. */
const MAX_BODY_BYTES = 1_024;

export interface SessionApiOptions {
  accounts: AccountStore;
  /** Sign-ups per client address. */
  signupRate: TokenBuckets;
  /** Called after a session is revoked, to disconnect its live sockets. */
  onRevoked: (tokenHash: string) => void;
  clock: () => number;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } });
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * `POST /api/session {name}` creates a user and a session and answers the token, once;
 * `DELETE /api/session` with `Authorization: Bearer <token>` revokes it (sign out). Tokens
 * travel only in bodies and headers, never in a URL, and are never logged.
 */
export function createSessionApi(options: SessionApiOptions) {
  const { accounts, signupRate, onRevoked, clock } = options;

  async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const wait = signupRate.take(req.socket.remoteAddress ?? 'unknown', 1);
    if (wait.granted === 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait.retryAfterMs / 1_000)));
      sendError(res, 429, 'rate_limited', 'too many sign-ups from this address; try again later');
      return;
    }
    const raw = await readBody(req);
    if (raw === null) {
      sendError(res, 413, 'invalid_payload', `the body must be at most ${MAX_BODY_BYTES} bytes`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      sendError(res, 400, 'invalid_payload', 'the body must be JSON');
      return;
    }
    const parsed = createSessionRequestSchema.safeParse(json);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_payload', 'name: 1 to 40 characters, no control characters');
      return;
    }
    const session: Session = {
      userId: randomUUID(),
      name: parsed.data.name,
      token: newSecret(SESSION_TOKEN_BYTES),
    };
    await accounts.createUser(
      { userId: session.userId, name: session.name, tokenHash: hashSecret(session.token) },
      clock(),
    );
    sendJson(res, 201, session);
  }

  async function revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !secretSchema.safeParse(token).success) {
      sendError(res, 401, 'unauthorized', 'a Bearer session token is required');
      return;
    }
    const tokenHash = hashSecret(token);
    if (!(await accounts.revokeSession(tokenHash, clock()))) {
      sendError(res, 401, 'unauthorized', 'this session is not valid');
      return;
    }
    onRevoked(tokenHash);
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  /** Handles the request if it is for the API; returns false otherwise. */
  return function handleApi(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/session') return false;
    const run = req.method === 'POST' ? create : req.method === 'DELETE' ? revoke : null;
    if (!run) {
      res.setHeader('Allow', 'POST, DELETE');
      sendError(res, 405, 'invalid_payload', 'use POST to sign up or DELETE to sign out');
      return true;
    }
    run(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'internal', 'the server failed');
    });
    return true;
  };
}
