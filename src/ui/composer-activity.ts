import { Listeners } from '../client/listeners.ts';

/** What this tab's composer is doing, as far as a reload could hurt it. */
export interface ComposerState {
  /** The box holds text the user has not sent. */
  writing: boolean;
  /** A `send()` has not reached the outbox yet: a reload now would drop that message. */
  sending: boolean;
}

const IDLE: ComposerState = { writing: false, sending: false };

/**
 * The page's composer reports here; the update flow reads it before reloading the page.
 * A new state object exactly when something changed (for useSyncExternalStore).
 */
export class ComposerActivity {
  readonly #listeners = new Listeners();
  #state: ComposerState = IDLE;
  #sends = 0;

  readonly subscribe = (listener: () => void): (() => void) => this.#listeners.add(listener);

  readonly getSnapshot = (): ComposerState => this.#state;

  /** Whether the box holds text; false again when the composer goes away. */
  setWriting(writing: boolean): void {
    this.#set({ writing, sending: this.#state.sending });
  }

  /** Counts `sending` as in progress until it settles, whichever way. */
  async track<T>(sending: Promise<T>): Promise<T> {
    this.#sends += 1;
    this.#set({ writing: this.#state.writing, sending: true });
    try {
      return await sending;
    } finally {
      this.#sends -= 1;
      this.#set({ writing: this.#state.writing, sending: this.#sends > 0 });
    }
  }

  #set(next: ComposerState): void {
    if (next.writing === this.#state.writing && next.sending === this.#state.sending) return;
    this.#state = next;
    this.#listeners.emit();
  }
}
