import type { Locks } from './locks.ts';

/**
 * Which tab of the profile flushes the outbox:
 * - `solo`: the platform has no Web Locks; every tab flushes, and the server's dedup keeps
 *   that correct at the cost of sending each message once per tab;
 * - `leader`: this tab holds the sender lock and is the only one that flushes;
 * - `follower`: another tab holds it; this one waits in line for it.
 */
export type Leadership = { kind: 'solo' } | { kind: 'leader' } | { kind: 'follower' };

/**
 * The profile's sender lock, held for the tab's life. A follower's request waits in line,
 * so when the leader's tab closes or crashes (the browser releases its locks) the next tab
 * takes over at once. `steal` takes the lock from a leader that cannot answer (a frozen
 * page keeps its locks); the tab it is taken from hears it as `follower` and lines up again.
 *
 *   follower ──granted──▶ leader ──stolen──▶ follower (waits again)
 *   follower ──steal()──▶ leader             any ──release()──▶ (done)
 */
export class SenderLock {
  readonly #locks: Locks | null;
  readonly #name: string;
  readonly #onChange: (leadership: Leadership) => void;
  #state: Leadership;
  /** Bumped by every new request: answers to an older one are old news. */
  #generation = 0;
  #waiting: AbortController | null = null;
  #letGo: (() => void) | null = null;
  #released = false;

  constructor(locks: Locks | null, name: string, onChange: (leadership: Leadership) => void) {
    this.#locks = locks;
    this.#name = name;
    this.#onChange = onChange;
    this.#state = locks ? { kind: 'follower' } : { kind: 'solo' };
  }

  get state(): Leadership {
    return this.#state;
  }

  /** Lines up for the lock (nothing to do without Web Locks). */
  start(): void {
    if (this.#locks && !this.#released) this.#request(false);
  }

  /** Takes the lock from whoever holds it now. */
  steal(): void {
    if (this.#state.kind === 'follower' && !this.#released) this.#request(true);
  }

  /** Lets the lock go for good (the engine is destroyed); the next tab in line gets it. */
  release(): void {
    this.#released = true;
    this.#generation += 1;
    this.#waiting?.abort();
    this.#waiting = null;
    this.#letGo?.();
    this.#letGo = null;
  }

  #request(steal: boolean): void {
    const locks = this.#locks;
    if (!locks) return;
    // A stealing request replaces the one waiting in line (the two cannot be one request).
    this.#waiting?.abort();
    const generation = ++this.#generation;
    const waiting = steal ? null : new AbortController();
    this.#waiting = waiting;
    const options = waiting ? { signal: waiting.signal } : { steal: true };
    locks
      .request(this.#name, options, () => {
        // Withdrawn or released in the meantime: hand the lock straight on.
        if (generation !== this.#generation) return undefined;
        this.#waiting = null;
        return new Promise<void>((letGo) => {
          this.#letGo = letGo;
          this.#set({ kind: 'leader' });
        });
      })
      .then(
        () => undefined,
        () => {
          // Withdrawn by this tab (a newer request replaced it), or stolen by another tab.
          if (generation !== this.#generation) return;
          this.#letGo = null;
          this.#set({ kind: 'follower' });
          this.#request(false);
        },
      );
  }

  #set(state: Leadership): void {
    if (state.kind === this.#state.kind) return;
    this.#state = state;
    this.#onChange(state);
  }
}
