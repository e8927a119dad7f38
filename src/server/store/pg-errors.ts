import { StoreUnavailableError } from './store-errors.ts';

/**
 * SQLSTATEs that say the server, not the statement, is the trouble: class 08 (connection
 * exceptions), 53300 (too many connections), 57P01..57P03 (admin shutdown, crash shutdown,
 * cannot connect now: a restart or failover).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[123])$/;

/** Socket failures Node reports while connecting or talking to the server. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Failures node-postgres reports without any code, by message: the socket closed under a
 * query, or no connection could be made in `connectionTimeoutMillis`.
 */
const UNAVAILABLE_PG_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** Whether a node-postgres error means the database is unreachable or went away. */
export function isPgUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SOCKET_CODES.has(code);
  }
  return UNAVAILABLE_PG_MESSAGE.test(error.message);
}

/**
 * The error a PostgreSQL store throws for `error`: unavailability becomes a
 * StoreUnavailableError (which `isStoreBusy` knows), anything else passes unchanged.
 */
export function asStoreError(error: unknown): unknown {
  return isPgUnavailable(error) ? new StoreUnavailableError(error) : error;
}
