import type { WireError } from '../shared/errors.ts';
import { MIN_PROTOCOL_VERSION, UNVERSIONED_PROTOCOL } from '../shared/protocol.ts';
import { handshakeAuthSchema, handshakeProtocolSchema } from '../shared/schemas.ts';
import { type Logger, messageOf } from './logger.ts';
import { hashSecret } from './secrets.ts';
import type { FerrySocket } from './socket-types.ts';
import type { AccountStore } from './store/account-store.ts';

type Next = (error?: Error) => void;

/** A `connect_error` the client can act on: `err.data` carries the machine-readable code. */
function wireError(error: WireError): Error & { data: WireError } {
  return Object.assign(new Error(error.code), { data: error });
}

/**
 * The protocol a handshake speaks, or why it cannot be served. A client older than
 * MIN_PROTOCOL_VERSION is told `upgrade_required`, whatever its token: an old tab has to
 * hear that it must reload, not that it must sign in again.
 */
function checkProtocol(auth: unknown): { protocol: number } | { refusal: WireError } {
  const claimed = handshakeProtocolSchema.safeParse(auth);
  if (!claimed.success) {
    return {
      refusal: { code: 'invalid_payload', message: 'auth.protocol must be a whole number' },
    };
  }
  const protocol = claimed.data.protocol ?? UNVERSIONED_PROTOCOL;
  if (protocol >= MIN_PROTOCOL_VERSION) return { protocol };
  const message = `this version of Ferry (protocol ${protocol}) is too old; reload the app`;
  return { refusal: { code: 'upgrade_required', message } };
}

/**
 * The socket.io middleware that checks a handshake's protocol version, then authenticates
 * it by its session token. A token
 * that is missing, unknown or revoked is refused with `unauthorized`, which the client does
 * not retry by itself. A lookup that fails is the server's fault, not the token's: it is
 * answered `internal`, so the client tries again later instead of giving up.
 */
export function createHandshake(accounts: AccountStore, log: Logger) {
  return function authenticate(socket: FerrySocket, next: Next): void {
    const checked = checkProtocol(socket.handshake.auth);
    if ('refusal' in checked) {
      next(wireError(checked.refusal));
      return;
    }
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
        log.error({ err: error }, `session lookup failed: ${messageOf(error)}`);
        const message = 'the server could not check the session; retrying is safe';
        next(wireError({ code: 'internal', message }));
      },
    );
  };
}
