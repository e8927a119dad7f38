import type { WireError } from '../shared/errors.ts';
import { handshakeAuthSchema } from '../shared/schemas.ts';
import { hashSecret } from './secrets.ts';
import type { FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';

type Next = (error?: Error) => void;

/** A `connect_error` the client can act on: `err.data` carries the machine-readable code. */
function wireError(error: WireError): Error & { data: WireError } {
  return Object.assign(new Error(error.code), { data: error });
}

/**
 * The socket.io middleware that authenticates a handshake by its session token. A token
 * that is missing, unknown or revoked is refused with `unauthorized`, which the client does
 * not retry by itself. A lookup that fails is the server's fault, not the token's: it is
 * answered `internal`, so the client tries again later instead of giving up.
 */
export function createHandshake(accounts: AccountStore, log: (line: string) => void) {
  return function authenticate(socket: FerrySocket, next: Next): void {
    const auth = handshakeAuthSchema.safeParse(socket.handshake.auth);
    if (!auth.success) {
      next(wireError({ code: 'unauthorized', message: 'a session token is required' }));
      return;
    }
    const tokenHash = hashSecret(auth.data.token);
    accounts.sessionUser(tokenHash).then(
      (user) => {
        if (!user) {
          const message = 'this session is not valid (signed out or revoked)';
          next(wireError({ code: 'unauthorized', message }));
          return;
        }
        socket.data.userId = user.userId;
        socket.data.name = user.name;
        socket.data.tokenHash = tokenHash;
        next();
      },
      (error: unknown) => {
        log(`session lookup failed: ${error instanceof Error ? error.message : String(error)}`);
        const message = 'the server could not check the session; retrying is safe';
        next(wireError({ code: 'internal', message }));
      },
    );
  };
}
