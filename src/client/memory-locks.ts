import { abortError, type Locks } from './locks.ts';

interface Request {
  grant(): void;
  steal(): void;
  withdraw(): void;
}

/**
 * Web Locks (exclusive mode) within one JavaScript realm: what `navigator.locks` does for
 * the tabs of a profile, for engines that share one Node process (tests, the chaos suite,
 * the bench). See `Locks` for the contract it keeps.
 */
export class MemoryLocks implements Locks {
  readonly #held = new Map<string, Request>();
  readonly #waiting = new Map<string, Request[]>();

  request<T>(
    name: string,
    options: { steal?: boolean; signal?: AbortSignal; ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<T> | T,
  ): Promise<T> {
    const exclusive = [options.steal, options.signal, options.ifAvailable].filter(Boolean);
    if (exclusive.length > 1) {
      return Promise.reject(new Error('steal, signal and ifAvailable cannot be combined'));
    }
    if (options.ifAvailable && this.#held.has(name)) {
      return Promise.resolve().then(() => callback(null));
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError('the lock request was aborted'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        outcome();
      };
      const onAbort = () => request.withdraw();
      const request: Request = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#held.set(name, request);
          // As in browsers, the callback runs later, never inside the call that asked.
          void Promise.resolve()
            .then(() => callback({ name, mode: 'exclusive' }))
            .then(
              (value) => settle(() => resolve(value)),
              (error: unknown) => settle(() => reject(error)),
            )
            .finally(() => this.#release(name, request));
        },
        steal: () => settle(() => reject(abortError('the lock was stolen'))),
        withdraw: () => {
          const queue = this.#waiting.get(name) ?? [];
          const index = queue.indexOf(request);
          if (index < 0) return;
          queue.splice(index, 1);
          settle(() => reject(abortError('the lock request was aborted')));
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.steal) {
        this.#held.get(name)?.steal();
        this.#held.delete(name);
        request.grant();
        return;
      }
      if (this.#held.has(name)) {
        this.#waiting.set(name, [...(this.#waiting.get(name) ?? []), request]);
        return;
      }
      request.grant();
    });
  }

  /** The callback of `holder` is done: the next waiter, if any, gets the lock. */
  #release(name: string, holder: Request): void {
    // A holder whose lock was stolen no longer holds anything to release.
    if (this.#held.get(name) !== holder) return;
    this.#held.delete(name);
    const next = this.#waiting.get(name)?.shift();
    next?.grant();
  }
}
