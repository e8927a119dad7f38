/**
 * At most `max` slots per key (a user id), each held until its release is called: a cap on
 * things that live for a while (sockets, requests in flight), where a rate is no help.
 */
export class SlotsPerKey {
  readonly max: number;
  /** Keys with at least one slot taken: the map holds no key that holds nothing. */
  readonly #taken = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a slot for `key`: the release (safe to call twice), or null when all are taken. */
  acquire(key: string): (() => void) | null {
    const taken = this.#taken.get(key) ?? 0;
    if (taken >= this.max) return null;
    this.#taken.set(key, taken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#taken.get(key) ?? 1) - 1;
      if (left > 0) this.#taken.set(key, left);
      else this.#taken.delete(key);
    };
  }
}
