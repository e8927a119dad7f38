import { SYSTEM_TIMERS, type TimerHandle, type Timers } from './timers.ts';

/** Application ping while connected and visible: measures RTT, finds half-open links. */
export const APP_PING_INTERVAL_MS = 5_000;
/** No ack within this = the link is presumed dead (half-open) and is replaced. */
export const APP_PING_TIMEOUT_MS = 5_000;

export interface HeartbeatDeps {
  /** Resolves with the measured round trip; rejects on timeout or disconnect. */
  ping(timeoutMs: number): Promise<number>;
  onRtt(rttMs: number): void;
  /** The ping timed out on a link that still claims to be up. */
  onDead(): void;
  intervalMs?: number;
  timeoutMs?: number;
  timers?: Timers;
}

/**
 * socket.io's own heartbeat is tuned for idle phones (tens of seconds); this one runs only
 * while the user is looking, every few seconds, so a dead link shows within seconds
 * instead of half a minute. Pings never overlap.
 */
export class Heartbeat {
  readonly #deps: HeartbeatDeps;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #timers: Timers;
  #timer: TimerHandle | null = null;
  #running = false;
  #inFlight = false;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
    this.#intervalMs = deps.intervalMs ?? APP_PING_INTERVAL_MS;
    this.#timeoutMs = deps.timeoutMs ?? APP_PING_TIMEOUT_MS;
    this.#timers = deps.timers ?? SYSTEM_TIMERS;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.pingNow();
  }

  stop(): void {
    this.#running = false;
    this.#clearTimer();
  }

  /** Pings at once (e.g. when the page becomes visible again), then keeps the rhythm. */
  pingNow(): void {
    if (!this.#running || this.#inFlight) return;
    this.#clearTimer();
    this.#inFlight = true;
    this.#deps.ping(this.#timeoutMs).then(
      (rttMs) => {
        this.#inFlight = false;
        if (!this.#running) return;
        this.#deps.onRtt(rttMs);
        this.#timer = this.#timers.setTimeout(() => this.pingNow(), this.#intervalMs);
      },
      () => {
        this.#inFlight = false;
        if (this.#running) this.#deps.onDead();
      },
    );
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
