/**
 * How long a client is asked to wait before it retries a write the store could not make:
 * long enough that a locked database costs each client one short busy wait a second, short
 * enough that messages flow soon after the lock goes.
 */
export const STORE_RETRY_AFTER_MS = 1_000;

/** The `code` of a StoreUnavailableError. */
const STORE_UNAVAILABLE = 'STORE_UNAVAILABLE';

/**
 * The store's database server could not be reached or dropped the connection (PostgreSQL
 * restarting, failing over, out of connections). The call's outcome is unknown when the
 * connection dropped mid-call, which a retry settles: appends are idempotent by id.
 */
export class StoreUnavailableError extends Error {
  readonly code = STORE_UNAVAILABLE;

  constructor(cause: unknown) {
    super(
      `the database is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Whether the store failed on trouble that passes, worth a "try again shortly" rather than
 * a server error: another connection holds SQLite's lock (SQLITE_BUSY or SQLITE_LOCKED,
 * with their extended codes), or PostgreSQL is unavailable (a StoreUnavailableError, which
 * the PostgreSQL stores throw; see pg-errors.ts for what counts).
 */
export function isStoreBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (/^SQLITE_(BUSY|LOCKED)/.test(code) || code === STORE_UNAVAILABLE)
  );
}
