import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-device timers and wall clock, so that one simulated device can be frozen while the
 * others run on in the same Node process.
 *
 * Every device's engines run inside `clock.run(…)`. Node carries that context through
 * promises, timers and sockets, so whatever a device's code schedules later still knows its
 * device. `installDeviceClocks` replaces the global timer functions and `Date.now` once, before
 * any engine exists: socket.io-client and engine.io-client bind `globalThis.setTimeout` when
 * they build their objects, and Ferry looks its timers up at each call. Outside any device,
 * the replacements are the originals.
 *
 * A frozen device's timer callbacks that come due are held, and run when it thaws, as a
 * frozen or throttled page's overdue timers do. `skip` moves the device's wall clock forward:
 * a phone that slept 45 s wakes with its clock 45 s on, whatever it slept for in this process.
 */

interface Registry {
  current: AsyncLocalStorage<DeviceClock>;
  /** The platform's own timers and clock, from before any replacement. */
  original: {
    setTimeout: typeof globalThis.setTimeout;
    setInterval: typeof globalThis.setInterval;
    clearTimeout: typeof globalThis.clearTimeout;
    clearInterval: typeof globalThis.clearInterval;
    now: () => number;
  };
  /** Timers cleared while their callback sat held in a frozen device. */
  cleared: WeakSet<object>;
  installed: boolean;
}

/**
 * One registry per process, not per module instance: a test runner may evaluate this
 * module again in a process whose globals were already replaced, and the second copy must
 * neither take the replacements for the originals nor use a context the replacements do
 * not read.
 */
const REGISTRY = Symbol.for('ferry.chaos.deviceClocks');
const registry = sharedRegistry();
const { current, original, cleared } = registry;

function sharedRegistry(): Registry {
  const slots = globalThis as unknown as Record<symbol, Registry | undefined>;
  const existing = slots[REGISTRY];
  if (existing) return existing;
  const made: Registry = {
    current: new AsyncLocalStorage<DeviceClock>(),
    original: {
      setTimeout: globalThis.setTimeout,
      setInterval: globalThis.setInterval,
      clearTimeout: globalThis.clearTimeout,
      clearInterval: globalThis.clearInterval,
      now: Date.now,
    },
    cleared: new WeakSet<object>(),
    installed: false,
  };
  slots[REGISTRY] = made;
  return made;
}

export class DeviceClock {
  readonly device: string;
  #frozen = false;
  #offsetMs = 0;
  /** By timer: an interval that came due several times while frozen runs once, like a page's. */
  readonly #held = new Map<object, () => void>();

  constructor(device: string) {
    this.device = device;
  }

  /** Runs `work` as this device: what it schedules belongs to the device. */
  run<T>(work: () => T): T {
    return current.run(this, work);
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** This device's wall clock. */
  now(): number {
    return original.now() + this.#offsetMs;
  }

  /** From now on, this device's timer callbacks wait for `thaw`. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Moves this device's wall clock forward (the time it spent asleep). */
  skip(ms: number): void {
    this.#offsetMs += Math.max(0, ms);
  }

  /** Runs the held callbacks in the order they came due, then lets timers run again. */
  thaw(): void {
    this.#frozen = false;
    const due = [...this.#held];
    this.#held.clear();
    for (const [timer, callback] of due) {
      if (!cleared.has(timer)) this.run(callback);
    }
  }

  /** The callback of `timer` came due. */
  fire(timer: object, callback: () => void): void {
    if (this.#frozen) {
      this.#held.set(timer, callback);
      return;
    }
    callback();
  }
}

/** Replaces the global timers and `Date.now` with device-aware ones; once per process. */
export function installDeviceClocks(): void {
  if (registry.installed) return;
  registry.installed = true;

  const wrap = (schedule: typeof original.setTimeout) =>
    function deviceTimer(callback: unknown, ms?: number, ...args: unknown[]) {
      const device = current.getStore();
      if (!device || typeof callback !== 'function') {
        return (schedule as (...all: unknown[]) => unknown)(callback, ms, ...args);
      }
      const timer = (schedule as (...all: unknown[]) => object)(
        () => device.fire(timer, () => callback(...args)),
        ms,
      );
      return timer;
    };
  const clear = (cancel: typeof original.clearTimeout) =>
    function deviceClear(timer: unknown) {
      if (typeof timer === 'object' && timer !== null) cleared.add(timer);
      cancel(timer as Parameters<typeof original.clearTimeout>[0]);
    };

  const setTimeoutWrapper = wrap(original.setTimeout);
  const setIntervalWrapper = wrap(original.setInterval as unknown as typeof original.setTimeout);
  // util.promisify(setTimeout) looks for Node's custom promisified form on the function.
  for (const [wrapper, from] of [
    [setTimeoutWrapper, original.setTimeout],
    [setIntervalWrapper, original.setInterval],
  ] as const) {
    for (const key of Object.getOwnPropertySymbols(from)) {
      (wrapper as unknown as Record<symbol, unknown>)[key] = (
        from as unknown as Record<symbol, unknown>
      )[key];
    }
  }
  globalThis.setTimeout = setTimeoutWrapper as unknown as typeof globalThis.setTimeout;
  globalThis.setInterval = setIntervalWrapper as unknown as typeof globalThis.setInterval;
  globalThis.clearTimeout = clear(original.clearTimeout) as typeof globalThis.clearTimeout;
  globalThis.clearInterval = clear(
    original.clearInterval as typeof original.clearTimeout,
  ) as typeof globalThis.clearInterval;
  Date.now = () => current.getStore()?.now() ?? original.now();
}
