/**
 * Paths the service worker never answers with the app shell: socket.io's transport, the
 * HTTP API and the health check must fail visibly when the network is gone.
 */
export const NAVIGATION_DENYLIST: RegExp[] = [/^\/socket\.io\//, /^\/api\//, /^\/healthz$/];

/** The message workbox-window's `messageSkipWaiting()` posts to a waiting worker. */
export function isSkipWaitingMessage(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'SKIP_WAITING'
  );
}
