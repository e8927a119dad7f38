import { SYSTEM_TIMERS, type TimerHandle, type Timers } from './timers.ts';

/** The link dropped (or was never up) before the request was answered. */
export class NotConnectedError extends Error {
  override name = 'NotConnectedError';
}

/** Nothing came back over the link for as long as the request allows. */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

/** However busy the link, a request is given up after its timeout times this. */
export const MAX_WAIT_FACTOR = 4;

interface Pending {
  reject(error: Error): void;
  timer: TimerHandle | null;
}

/**
 * Requests waiting for their ack. A request times out when the link has been silent (no
 * ack for anything) for its timeout, not merely when its own ack is late: on a slow
 * uplink a request waits behind earlier batches, whose acks keep coming, and that link is
 * alive. A half-open link answers nothing, so it is still found within the timeout.
 */
export class RequestTracker {
  readonly #timers: Timers;
  readonly #pending = new Set<Pending>();
  #lastAckAt = 0;

  constructor(timers: Timers = SYSTEM_TIMERS) {
    this.#timers = timers;
  }

  /**
   * Tracks one request: `emit` puts it on the wire with the answer callback it is given.
   * Resolves with the raw answer; rejects on timeout or when `failAll` is called.
   */
  track(timeoutMs: number, emit: (answer: (response: unknown) => void) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const sentAt = this.#timers.now();
      const pending: Pending = { reject, timer: null };
      const done = () => {
        if (pending.timer !== null) this.#timers.clearTimeout(pending.timer);
        return this.#pending.delete(pending);
      };
      const check = () => {
        const now = this.#timers.now();
        const silentMs = now - Math.max(sentAt, this.#lastAckAt);
        const waitedMs = now - sentAt;
        if (silentMs >= timeoutMs || waitedMs >= timeoutMs * MAX_WAIT_FACTOR) {
          done();
          reject(new RequestTimeoutError(`no answer within ${timeoutMs} ms`));
          return;
        }
        const untilSilentMs = timeoutMs - silentMs;
        const untilCapMs = timeoutMs * MAX_WAIT_FACTOR - waitedMs;
        pending.timer = this.#timers.setTimeout(check, Math.min(untilSilentMs, untilCapMs));
      };
      pending.timer = this.#timers.setTimeout(check, timeoutMs);
      this.#pending.add(pending);
      emit((response) => {
        this.#lastAckAt = this.#timers.now();
        if (done()) resolve(response);
      });
    });
  }

  /** The link is gone: every waiting request fails now, to be sent again on a new link. */
  failAll(reason: string): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const request of pending) {
      if (request.timer !== null) this.#timers.clearTimeout(request.timer);
      request.reject(new NotConnectedError(reason));
    }
  }
}
