/** The clock and timers a unit runs on; injected so tests drive time without waiting. */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Whatever the platform's setTimeout returns (a number in browsers, an object in Node). */
export type TimerHandle = ReturnType<typeof globalThis.setTimeout>;

/** The platform's own clock and timers, looked up at each call (so fake timers apply). */
export const SYSTEM_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
};

/** Timers over a given clock (the engine's `clock` option), the platform's timers otherwise. */
export function timersWithClock(clock: (() => number) | undefined): Timers {
  return clock ? { ...SYSTEM_TIMERS, now: clock } : SYSTEM_TIMERS;
}
