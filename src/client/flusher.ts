import { MAX_BATCH_BODY_BYTES, MAX_BATCH_MESSAGES } from '../shared/limits.ts';
import type { SendAck, SendBatch } from '../shared/protocol.ts';
import type { BatchCaps, LocalStore } from './local-store.ts';
import type { OutboxEntry } from './types.ts';

/**
 * Batches in flight at once: enough to fill a slow link, few enough to bound the resend.
 * Ten full batches put a 1,000-message backlog on the wire in one round trip (with 4 it
 * took three: see docs/benchmarks.md); a reconnect resends at most that much, which the
 * server answers as duplicates.
 */
export const FLUSH_WINDOW_BATCHES = 10;
export const DEFAULT_BATCH_CAPS: BatchCaps = {
  maxMessages: MAX_BATCH_MESSAGES,
  maxBodyBytes: MAX_BATCH_BODY_BYTES,
};

export interface FlushTransport {
  isConnected(): boolean;
  /** Rejects on timeout, on disconnect and on a malformed ack. */
  sendBatch(batch: SendBatch): Promise<SendAck>;
  /** The link looks half-open (an ack never came): drop it and connect again. */
  recycle(): void;
}

/**
 * Applies one ack to the local state (one transaction); answers how long the server's rate
 * limit asks to wait before sending again, or null.
 */
export type SettleBatch = (
  entries: readonly OutboxEntry[],
  ack: SendAck,
) => Promise<{ retryAfterMs: number | null }>;

/**
 * Sends the outbox in order: consecutive same-room entries go out as one batch, up to
 * FLUSH_WINDOW_BATCHES batches in flight. The server handles a socket's batches in
 * arrival order, so the window cannot reorder. After any reconnect the flusher starts
 * again from the head of the outbox: entries whose ack was lost are sent again and the
 * server answers them as duplicates with their original seq, so nothing is stored twice.
 */
export class Flusher {
  readonly #store: LocalStore;
  readonly #transport: FlushTransport;
  readonly #settle: SettleBatch;
  readonly #windowBatches: number;
  readonly #caps: BatchCaps;
  /** Bumped on every reset; an ack from an older epoch no longer counts toward the window. */
  #epoch = 0;
  #inFlight = 0;
  /** Highest outbox key already sent in this epoch. */
  #sentUpTo = 0;
  #filling = false;
  #wakeAgain = false;
  #stopped = false;
  /** While the server's rate limit holds us back, nothing is sent before this time. */
  #pausedUntil = 0;
  #pauseTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    store: LocalStore,
    transport: FlushTransport,
    settle: SettleBatch,
    options: { windowBatches?: number; caps?: BatchCaps } = {},
  ) {
    this.#store = store;
    this.#transport = transport;
    this.#settle = settle;
    this.#windowBatches = options.windowBatches ?? FLUSH_WINDOW_BATCHES;
    this.#caps = options.caps ?? DEFAULT_BATCH_CAPS;
  }

  /** Forgets what is in flight so that the next fill starts from the head of the outbox. */
  reset(): void {
    this.#epoch += 1;
    this.#inFlight = 0;
    this.#sentUpTo = 0;
  }

  /** Sends whatever fits in the window now; cheap to call often. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#filling) {
      this.#wakeAgain = true;
      return;
    }
    this.#filling = true;
    void this.#fill().finally(() => {
      this.#filling = false;
      if (this.#wakeAgain) {
        this.#wakeAgain = false;
        this.wake();
      }
    });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    this.reset();
  }

  /**
   * Holds everything back for `ms` and then resends from the head of the outbox: the server
   * refuses whatever was in flight behind the held messages, so order is kept.
   */
  #pause(ms: number): void {
    this.reset();
    this.#pausedUntil = Date.now() + ms;
    if (this.#pauseTimer) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = null;
      this.#pausedUntil = 0;
      this.wake();
    }, ms);
  }

  async #fill(): Promise<void> {
    if (Date.now() < this.#pausedUntil) return;
    while (
      !this.#stopped &&
      this.#transport.isConnected() &&
      this.#inFlight < this.#windowBatches
    ) {
      const epoch = this.#epoch;
      const entries = await this.#store.readOutboxBatch(this.#sentUpTo, this.#caps);
      if (epoch !== this.#epoch) continue;
      const first = entries[0];
      const last = entries.at(-1);
      if (!first || !last) return;
      this.#sentUpTo = last.key;
      this.#inFlight += 1;
      void this.#send(epoch, entries, {
        room: first.room,
        messages: entries.map(({ id, body }) => ({ id, body })),
      });
    }
  }

  async #send(epoch: number, entries: OutboxEntry[], batch: SendBatch): Promise<void> {
    let ack: SendAck;
    try {
      ack = await this.#transport.sendBatch(batch);
    } catch {
      // A reset already happened if the socket dropped; otherwise the ack is overdue on a
      // link that claims to be up, which is what a half-open connection looks like.
      if (epoch === this.#epoch && this.#transport.isConnected()) this.#transport.recycle();
      return;
    }
    if (!ack.ok && ack.error.code === 'internal') {
      // The server failed mid-batch and drops the socket; resend after the reconnect.
      if (epoch === this.#epoch) this.#transport.recycle();
      return;
    }
    const { retryAfterMs } = await this.#settle(entries, ack);
    if (retryAfterMs !== null) {
      this.#pause(retryAfterMs);
      return;
    }
    if (epoch === this.#epoch) {
      this.#inFlight -= 1;
      this.wake();
    }
  }
}
