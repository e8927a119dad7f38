import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { MAX_NAME_CHARS, SESSION_TOKEN_BYTES } from '../shared/limits.ts';
import type { Session } from '../shared/protocol.ts';
import { createSessionRequestSchema } from '../shared/schemas.ts';
import {
  type BodyLimits,
  bearerToken,
  isJson,
  readJsonBody,
  sendError,
  sendFailure,
  sendJson,
  setRetryAfter,
} from './json-http.ts';
import { hashSecret, newSecret } from './secrets.ts';
import type { AccountStore } from './store/account-store.ts';
import type { RateBuckets } from './token-bucket.ts';

/** A sign-up is a name and a key in a tiny JSON body; bigger ones are drained up to 64 KB. */
const BODY_LIMITS: BodyLimits = { maxBytes: 1_024, maxDrainedBytes: 64 * 1024 };

export interface SessionApiOptions {
  accounts: AccountStore;
  /** Sign-ups per client address, possibly shared by every process (redis-buckets.ts). */
  signupRate: RateBuckets;
  /** Called after a session is revoked, to disconnect its live sockets. */
  onRevoked: (tokenHash: string) => void;
  /** Whether the request's Origin may sign up (see origin-check.ts). */
  originAllowed: (req: IncomingMessage) => boolean;
  clock: () => number;
}

/** What a refused sign-up body is told, by the first field that is wrong. */
function describeSignUpIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue?.path[0] === 'signupKey') {
    return 'signupKey: 32 random bytes in base64url (43 characters), or no signupKey at all';
  }
  // The name's own rules say what is wrong with it (empty, too long, invisible, ...).
  return issue?.path[0] === 'name' && issue.code !== 'invalid_type'
    ? `name: ${issue.message}`
    : `name: 1 to ${MAX_NAME_CHARS} visible characters on one line`;
}

/**
 * `POST /api/session {name, signupKey?}` creates a user and a session and answers the
 * token, once. With a `signupKey` it is idempotent: a key that already made a user answers
 * that user again (200, a fresh token, the name stored first) and is not counted as a new
 * sign-up. `DELETE /api/session` with `Authorization: Bearer <token>` revokes a session
 * (sign out). Tokens and keys travel only in bodies and headers, never in a URL, and are
 * never logged.
 */
export function createSessionApi(options: SessionApiOptions) {
  const { accounts, signupRate, onRevoked, originAllowed, clock } = options;

  async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Both refusals come before the body is read and before the address's budget is
    // touched: a hostile page must not be able to spend it for the real users behind it.
    if (!originAllowed(req)) {
      sendError(res, 403, 'forbidden', "sign-ups are accepted from this server's own pages only");
      return;
    }
    if (!isJson(req)) {
      sendError(res, 415, 'invalid_payload', 'the body must be sent as application/json');
      return;
    }
    const body = await readJsonBody(req, res, BODY_LIMITS);
    if (!body) return;
    const parsed = createSessionRequestSchema.safeParse(body.json);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_payload', describeSignUpIssue(parsed.error.issues[0]));
      return;
    }
    const token = newSecret(SESSION_TOKEN_BYTES);
    const tokenHash = hashSecret(token);
    const { name, signupKey } = parsed.data;
    const signupKeyHash = signupKey === undefined ? null : hashSecret(signupKey);

    // A repeat of a sign-up that already made its user (a second tab, a retry after a lost
    // answer) is not a new sign-up: it is answered without touching the address's budget.
    const known = signupKeyHash === null ? undefined : await accounts.signupKeyUser(signupKeyHash);
    if (known) {
      await accounts.addSession(known.userId, tokenHash, clock());
      sendJson(res, 200, { ...known, token } satisfies Session);
      return;
    }

    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = await signupRate.take(address, 1);
    if (wait.granted === 0) {
      setRetryAfter(res, wait.retryAfterMs);
      sendError(res, 429, 'rate_limited', 'too many sign-ups from this address; try again later');
      return;
    }
    let outcome: Awaited<ReturnType<AccountStore['createUser']>>;
    try {
      outcome = await accounts.createUser(
        { userId: randomUUID(), name, tokenHash, signupKeyHash },
        clock(),
      );
    } catch (error) {
      // Nobody was signed up: a busy or failing store must not spend the address's budget.
      await signupRate.refund(address, 1);
      throw error;
    }
    // Lost a race with another request carrying the same key: that one was the sign-up.
    if (!outcome.created) await signupRate.refund(address, 1);
    const session: Session = { userId: outcome.userId, name: outcome.name, token };
    sendJson(res, outcome.created ? 201 : 200, session);
  }

  async function revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = bearerToken(req);
    if (!token) {
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
    run(req, res).catch((error: unknown) => sendFailure(res, error));
    return true;
  };
}
