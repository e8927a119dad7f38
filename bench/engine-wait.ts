import type { Engine } from '../src/client/engine.ts';

/**
 * Resolves once `ready(engine)` holds, checked at every engine notification (no polling
 * interval to round the timings up); rejects after `timeoutMs`. Runs in Node and in the
 * bench page alike.
 */
export function untilEngine(
  engine: Engine,
  what: string,
  ready: (engine: Engine) => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ready(engine)) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const dispose = engine.subscribe(() => {
      if (!ready(engine)) return;
      clearTimeout(timer);
      dispose();
      resolve();
    });
  });
}

/**
 * The room holds `count` messages (its newest seq is at least `count`: the view holds a
 * window of the newest, the device the rest) and no catch-up is running.
 */
export function caughtUp(room: string, count: number): (engine: Engine) => boolean {
  return (engine) => {
    const snapshot = engine.room(room);
    if (snapshot.catchingUp !== null) return false;
    const newest = snapshot.messages.findLast((message) => message.status === 'sent');
    return newest?.status === 'sent' && newest.seq >= count;
  };
}
