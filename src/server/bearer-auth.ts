import type { IncomingMessage } from 'node:http';
import { bearerToken } from './json-http.ts';
import { hashSecret } from './secrets.ts';
import type { AccountStore, SessionUser } from './store/account-store.ts';
import type { TokenBuckets } from './token-bucket.ts';

/** Who sent a request: a user, a refusal to tell the client, or a wait for its address. */
export type Authentication =
  | { kind: 'user'; user: SessionUser }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'rate_limited'; retryAfterMs: number };

/**
 * Authenticates a request by its `Authorization: Bearer` token, within its address's budget
 * of refused tokens: each refusal spends one, and an address with none left is answered
 * `rate_limited` before its token is looked up, so made-up tokens cannot buy lookups. A
 * good token spends nothing; but while the budget is spent it waits too, since telling it
 * apart is the very lookup the budget bounds.
 */
export function createBearerAuth(accounts: AccountStore, refusedTokens: TokenBuckets) {
  return async function authenticate(req: IncomingMessage): Promise<Authentication> {
    const address = req.socket.remoteAddress ?? 'unknown';
    // Taken up front and given back for a good token, so that requests whose lookups
    // overlap cannot all pass on the one refusal left.
    const grant = refusedTokens.take(address, 1);
    if (grant.granted === 0) return { kind: 'rate_limited', retryAfterMs: grant.retryAfterMs };
    const token = bearerToken(req);
    if (token === null) {
      return { kind: 'unauthorized', message: 'a Bearer session token is required' };
    }
    let user: SessionUser | undefined;
    try {
      user = await accounts.sessionUser(hashSecret(token));
    } catch (error) {
      // The store failed, not the token: no refusal to count.
      refusedTokens.refund(address, 1);
      throw error;
    }
    if (!user) {
      return { kind: 'unauthorized', message: 'this session is not valid (signed out or revoked)' };
    }
    refusedTokens.refund(address, 1);
    return { kind: 'user', user };
  };
}
