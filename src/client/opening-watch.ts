import type { Manager } from 'socket.io-client';

interface UntypedEngine {
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
}

/**
 * socket.io-client's Manager, while it opens a link, listens for the engine's `error` but
 * not for its `close`. A link reset after the WebSocket upgrade but before engine.io's open
 * packet (a flaky uplink does this often) left the Manager waiting for its connect timeout,
 * 10 s, before the next attempt. This turns such a close into the error the Manager does
 * listen for, so it tries again after one backoff step.
 *
 * `afterOpen` is called right after Ferry asks the socket to connect; socket.io's own
 * retries are caught through `reconnect_attempt` (the engine is made right after it).
 */
export function watchOpenings(manager: Manager): { afterOpen(): void; dispose(): void } {
  const watched = new WeakSet<object>();
  const watch = () => {
    const engine = (manager as unknown as { engine?: UntypedEngine }).engine;
    if (!engine || watched.has(engine)) return;
    watched.add(engine);
    let opened = false;
    engine.once('open', () => {
      opened = true;
    });
    engine.once('close', (reason: unknown) => {
      if (!opened) engine.emit('error', new Error(`the link closed while opening (${reason})`));
    });
  };
  const onAttempt = () => queueMicrotask(watch);
  manager.on('reconnect_attempt', onAttempt);
  return { afterOpen: watch, dispose: () => manager.off('reconnect_attempt', onAttempt) };
}
