/**
 * Whether the device has a network, as the platform reports it. Injected into the
 * connection so tests can go offline and online without a browser.
 */
export interface Connectivity {
  isOnline(): boolean;
  /** Calls `listener` on every change; returns the disposer. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/** For Node and tests: always online unless told otherwise through `set`. */
export class ManualConnectivity implements Connectivity {
  #online: boolean;
  readonly #listeners = new Set<(online: boolean) => void>();

  constructor(online = true) {
    this.#online = online;
  }

  isOnline(): boolean {
    return this.#online;
  }

  set(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    for (const listener of this.#listeners) listener(online);
  }

  subscribe(listener: (online: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The browser's `online`/`offline` events and `navigator.onLine`. */
export function browserConnectivity(target: Window = window): Connectivity {
  return {
    isOnline: () => target.navigator.onLine,
    subscribe(listener) {
      const online = () => listener(true);
      const offline = () => listener(false);
      target.addEventListener('online', online);
      target.addEventListener('offline', offline);
      return () => {
        target.removeEventListener('online', online);
        target.removeEventListener('offline', offline);
      };
    },
  };
}
