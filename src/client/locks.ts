/**
 * The part of the Web Locks API (`navigator.locks`) the engine uses. Browsers give it; Node
 * tests inject `MemoryLocks`, which keeps the same contract:
 * - requests for one name are granted one at a time, in the order they were made;
 * - the lock is held until the promise the callback returns settles;
 * - `signal` withdraws a request still waiting (its promise rejects with an AbortError);
 * - `steal: true` is granted at once: the holder loses the lock, and the promise its
 *   `request` returned rejects with an AbortError (its callback is not interrupted).
 * - `ifAvailable: true` never waits: the callback gets null when the lock is held.
 * `steal`, `signal` and `ifAvailable` cannot be combined (the browser refuses it too).
 */
export interface Locks {
  request<T>(
    name: string,
    options: { steal?: boolean; signal?: AbortSignal; ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<T> | T,
  ): Promise<T>;
}

/** The browser's lock manager, or null where it has none (Node, older browsers). */
export function platformLocks(): Locks | null {
  const platform = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return platform?.locks ?? null;
}

/** Lock names of one profile: its database name keeps profiles (and test devices) apart. */
export function senderLockName(dbName: string): string {
  return `ferry-sender:${dbName}`;
}

export function identityLockName(dbName: string): string {
  return `ferry-identity:${dbName}`;
}

/** The error a withdrawn or stolen lock request rejects with, as browsers make it. */
export function abortError(message: string): Error {
  const error = new Error(message);
  error.name = 'AbortError';
  return error;
}

/**
 * Runs `work` under the named lock, waiting at most `maxWaitMs` for it; after that, or
 * without Web Locks, it runs anyway. For work that is correct without the lock and only
 * cheaper with it: a stuck holder must not stop this tab for good.
 */
export async function withLockIfPossible<T>(
  locks: Locks | null,
  name: string,
  maxWaitMs: number,
  work: () => Promise<T>,
): Promise<T> {
  if (!locks) return work();
  let granted = false;
  try {
    return await locks.request(name, { signal: AbortSignal.timeout(maxWaitMs) }, () => {
      granted = true;
      return work();
    });
  } catch (error) {
    if (granted) throw error;
    return work();
  }
}
