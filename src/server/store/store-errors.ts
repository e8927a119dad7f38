/**
 * How long a client is asked to wait before it retries a write the store could not make:
 * long enough that a locked database costs each client one short busy wait a second, short
 * enough that messages flow soon after the lock goes.
 */
export const STORE_RETRY_AFTER_MS = 1_000;

/**
 * Whether the store failed because another connection holds its lock (SQLite's
 * SQLITE_BUSY or SQLITE_LOCKED, with their extended codes): trouble that passes, worth a
 * "try again shortly" rather than a server error.
 */
export function isStoreBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}
