import { clampRetryAfterMs, MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from '../shared/limits.ts';
import type { SendAck, SendBatch } from '../shared/protocol.ts';
import {
  type BatchCaps,
  type BatchPlan,
  DEFAULT_BATCH_CAPS,
  outgoingItemOf,
  planBatch,
} from './batch-plan.ts';
import { SYSTEM_TIMERS, type TimerHandle, type Timers } from './timers.ts';
import type { OutboxEntry } from './types.ts';

/**
 * Most batches in flight at once. Ten full batches put a 1,000-message backlog on the wire
 * in one round trip (with 4 it took three: see docs/benchmarks.md); a reconnect resends
 * at most that much, which the server answers as duplicates.
 */
export const MAX_WINDOW_BATCHES = 10;
/**
 * Bytes a new link may have in flight before its speed is known. On a phone's slow uplink
 * (64 kbit/s) this is 8 s of queue, in batches of 2 s: socket.io's pong, queued behind it,
 * still arrives within the server's 10 s deadline, and acks come often enough to show the
 * heartbeat that the link is alive. On a fast link it carries a 1,000-message backlog of
 * chat lines in about two round trips.
 */
export const INITIAL_WINDOW_BYTES = 64 * 1024;
/** The most bytes in flight once acks come back quickly. */
export const MAX_WINDOW_BYTES = 1024 * 1024;
/**
 * Batches fill to a quarter of the byte window, but no less than this: on a slow uplink
 * small batches keep acks coming every second or two, and an ack is how the heartbeat
 * knows a busy link from a dead one.
 */
export const MIN_BATCH_BYTES = 8 * 1024;
/** An ack slower than this means batches queue on the uplink: halve the byte window. */
export const SLOW_ACK_MS = 2_000;
/**
 * An ack faster than this means the link has room: the window grows by the bytes acked
 * (so it doubles per round trip, as TCP's slow start does). Growing per ack instead would
 * let a run of small batches, quick behind nothing, open the window while a big batch
 * still crawls up a slow link.
 */
export const FAST_ACK_MS = 500;
/**
 * The shortest and longest wait on a rate limit or a store that cannot write, whatever the
 * server says: a client never resends faster than the floor, so a refused request loop is
 * impossible by construction, and a nonsense wait (an overflowing number) cannot park the
 * outbox for good.
 */
export const MIN_RATE_LIMIT_WAIT_MS = MIN_RETRY_AFTER_MS;
export const MAX_RATE_LIMIT_WAIT_MS = MAX_RETRY_AFTER_MS;
/** After the device failed to record an ack (quota, closed database), wait this, then retry. */
export const SETTLE_RETRY_MS = 2_000;

/** The outbox as the flusher reads it. */
export interface OutboxReader {
  /**
   * Plans a batch from up to `limit` entries after `afterKey`, in outbox order, and marks
   * the planned ones as possibly sent (see LocalStore.claimBatch).
   */
  claimBatch(
    afterKey: number,
    limit: number,
    plan: (candidates: OutboxEntry[]) => BatchPlan,
  ): Promise<BatchPlan>;
}

/** What the flusher needs from the rest of the engine: the wire, and the local record. */
export interface FlushPort {
  isConnected(): boolean;
  /** Puts a batch on the wire; rejects on disconnect, on a silent link, on a malformed ack. */
  send(batch: SendBatch): Promise<SendAck>;
  /**
   * Records an ack on the device in one transaction; answers how long the server asks to
   * wait before sending again (its rate limit, or its store failed), or null.
   */
  settle(entries: readonly OutboxEntry[], ack: SendAck): Promise<{ retryAfterMs: number | null }>;
  /** Fails, on the device, an entry that no batch can carry (its body is far too long). */
  failOversize(entry: OutboxEntry): Promise<void>;
  /** The link looks half-open (an ack never came): drop it and connect again. */
  recycle(): void;
}

export interface FlusherOptions {
  caps?: BatchCaps;
  maxWindowBatches?: number;
  timers?: Timers;
}

/** Counts for diagnostics (the chaos suite bounds the refused ones). */
export interface FlushStats {
  batchesSent: number;
  /**
   * Batches the server held back, wholly or in part: `rate_limited`, or `internal` (a store
   * that could not write).
   */
  batchesRefused: number;
}

/**
 * Sends the outbox in order: consecutive same-room entries go out as one batch, several
 * batches in flight. The server handles a socket's batches in arrival order, so the window
 * cannot reorder. After any reconnect the flusher starts again from the head of the
 * outbox: entries whose ack was lost are sent again and the server answers them as
 * duplicates with their original seq, so nothing is stored twice.
 *
 * State:
 *   epoch        bumped by reset(); acks of an older epoch no longer count
 *   sentUpTo     highest outbox key put on the wire in this epoch
 *   inFlight     batches (and their bytes) of this epoch still waiting for their ack
 *   windowBytes  how many bytes may be in flight: starts small, grows on fast acks and
 *                halves on slow ones, so a slow uplink never queues more than a few
 *                seconds of data in front of the heartbeat
 *   pausedUntil  the server's hold (rate limit, store failure): nothing goes out before then
 *   probing      after a pause, one batch at a time until one is accepted
 *
 *   wake ─▶ fill: while connected, not paused, and the window has room:
 *             plan the next batch after sentUpTo (from the head, and saying so, when
 *             nothing is in flight) ─▶ send ─▶ ack ─▶ settle ─▶ wake
 *   reset (new link, server hold, failed settle) ─▶ epoch++, from the head again
 */
export class Flusher {
  readonly #outbox: OutboxReader;
  readonly #port: FlushPort;
  readonly #caps: BatchCaps;
  readonly #maxWindowBatches: number;
  readonly #timers: Timers;
  readonly #stats: FlushStats = { batchesSent: 0, batchesRefused: 0 };
  #epoch = 0;
  #sentUpTo = 0;
  #inFlight = 0;
  #bytesInFlight = 0;
  #windowBytes = INITIAL_WINDOW_BYTES;
  #pausedUntil = 0;
  #pauseTimer: TimerHandle | null = null;
  /**
   * After a pause (a server hold, or a local write that failed), one batch at a time until
   * one is accepted: a refusal then costs one request, not a window of them.
   */
  #probing = false;
  #filling = false;
  #wakeAgain = false;
  #stopped = false;

  constructor(outbox: OutboxReader, port: FlushPort, options: FlusherOptions = {}) {
    this.#outbox = outbox;
    this.#port = port;
    this.#caps = options.caps ?? DEFAULT_BATCH_CAPS;
    this.#maxWindowBatches = options.maxWindowBatches ?? MAX_WINDOW_BATCHES;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
  }

  get stats(): Readonly<FlushStats> {
    return this.#stats;
  }

  /**
   * Forgets what is in flight so that the next fill starts from the head of the outbox;
   * a new link also starts from the small byte window, since its speed is not known yet.
   */
  reset(): void {
    this.#epoch += 1;
    this.#sentUpTo = 0;
    this.#inFlight = 0;
    this.#bytesInFlight = 0;
    this.#windowBytes = INITIAL_WINDOW_BYTES;
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

  /** Sends nothing more until `start`; acks already on their way are still recorded. */
  stop(): void {
    this.#stopped = true;
    if (this.#pauseTimer !== null) this.#timers.clearTimeout(this.#pauseTimer);
    this.#pauseTimer = null;
    // A pause has no timer left to end it; a server hold still in force is met again.
    this.#pausedUntil = 0;
    this.reset();
  }

  /**
   * Sends again after `stop`, from the head of the outbox: this tab became the profile's
   * sender, and whatever the previous sender had in flight may or may not have landed.
   */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.reset();
    this.wake();
  }

  async #fill(): Promise<void> {
    while (!this.#stopped && this.#port.isConnected() && this.#hasRoom()) {
      if (this.#timers.now() < this.#pausedUntil) return;
      const epoch = this.#epoch;
      const limit = this.#caps.maxMessages;
      // With nothing in flight, read from the head: whatever is still queued then is
      // unsettled, and the batch can tell the server it starts at the head of the outbox.
      const head = this.#inFlight === 0;
      const fillBytes = this.#fillBytes();
      const plan = await this.#outbox.claimBatch(head ? 0 : this.#sentUpTo, limit, (candidates) =>
        planBatch(candidates, this.#caps, fillBytes),
      );
      if (epoch !== this.#epoch) continue;
      if (plan.kind === 'empty') return;
      if (plan.kind === 'oversize') {
        this.#sentUpTo = plan.entry.key;
        if (!(await this.#guard(() => this.#port.failOversize(plan.entry)))) return;
        continue;
      }
      // The first batch of a window always goes, however big: the caps keep it under the
      // server's packet limit, and a window that cannot hold one batch would stall.
      if (this.#inFlight > 0 && this.#bytesInFlight + plan.bytes > this.#windowBytes) return;
      const last = plan.entries.at(-1) as OutboxEntry;
      this.#sentUpTo = last.key;
      this.#inFlight += 1;
      this.#bytesInFlight += plan.bytes;
      this.#stats.batchesSent += 1;
      void this.#sendBatch(epoch, plan.entries, plan.bytes, head);
    }
  }

  #hasRoom(): boolean {
    const maxBatches = this.#probing ? 1 : this.#maxWindowBatches;
    return this.#inFlight < maxBatches && this.#bytesInFlight < this.#windowBytes;
  }

  async #sendBatch(
    epoch: number,
    entries: OutboxEntry[],
    bytes: number,
    head: boolean,
  ): Promise<void> {
    const sentAt = this.#timers.now();
    const batch: SendBatch = {
      room: (entries[0] as OutboxEntry).room,
      messages: entries.map(outgoingItemOf),
      ...(head ? { head } : {}),
    };
    let ack: SendAck;
    try {
      ack = await this.#port.send(batch);
    } catch {
      // A reset already happened if the socket dropped; otherwise the link went silent
      // while claiming to be up, which is what a half-open connection looks like.
      if (epoch === this.#epoch && this.#port.isConnected()) this.#port.recycle();
      return;
    }
    let retryAfterMs: number | null = null;
    const settled = await this.#guard(async () => {
      retryAfterMs = (await this.#port.settle(entries, ack)).retryAfterMs;
    });
    if (!settled) return;
    if (retryAfterMs !== null) {
      this.#stats.batchesRefused += 1;
      // A refusal from before the last reset (a batch that was in flight behind the cut)
      // is old news: the pause it belongs to is already running or over.
      if (epoch === this.#epoch) this.#pause(retryAfterMs);
      return;
    }
    if (epoch !== this.#epoch) return;
    this.#probing = false;
    this.#inFlight -= 1;
    this.#bytesInFlight -= bytes;
    this.#adaptWindow(this.#timers.now() - sentAt, bytes);
    this.wake();
  }

  /** Runs a local write; if it throws, starts over from the head after a pause. */
  async #guard(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch {
      this.#pause(SETTLE_RETRY_MS);
      return false;
    }
  }

  #fillBytes(): number {
    return Math.max(MIN_BATCH_BYTES, this.#windowBytes / 4);
  }

  #adaptWindow(ackMs: number, ackedBytes: number): void {
    if (ackMs > SLOW_ACK_MS) {
      this.#windowBytes = Math.max(2 * MIN_BATCH_BYTES, this.#windowBytes / 2);
    } else if (ackMs < FAST_ACK_MS) {
      this.#windowBytes = Math.min(MAX_WINDOW_BYTES, this.#windowBytes + ackedBytes);
    }
  }

  /**
   * Holds everything back for a while, then resends from the head of the outbox: the
   * server refuses whatever was in flight behind held messages, so order is kept.
   */
  #pause(requestedMs: number): void {
    if (this.#stopped) return;
    this.#probing = true;
    const ms = clampRetryAfterMs(requestedMs);
    this.reset();
    this.#pausedUntil = this.#timers.now() + ms;
    if (this.#pauseTimer !== null) this.#timers.clearTimeout(this.#pauseTimer);
    this.#pauseTimer = this.#timers.setTimeout(() => {
      this.#pauseTimer = null;
      this.#pausedUntil = 0;
      this.wake();
    }, ms);
  }
}
