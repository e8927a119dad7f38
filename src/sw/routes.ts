/**
 * The navigations the service worker answers with the app shell: the app's own pages,
 * with any query (a home-screen `start_url` may carry one). Rooms live in the hash, which
 * never reaches the worker. Everything else the server has (`/ferry-ca.crt`, `/healthz`,
 * the API, socket.io, paths added later) goes to the network, so it is what the server
 * says, and offline it fails visibly instead of showing the app. An allow-list: a path
 * the server gains later is safe without anyone remembering to list it here.
 *
 * Matched against the URL's pathname and search, as workbox's NavigationRoute does.
 */
export const APP_PAGES: RegExp[] = [/^\/(?:index\.html)?(?:\?.*)?$/];

/** The message workbox-window's `messageSkipWaiting()` posts to a waiting worker. */
export function isSkipWaitingMessage(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'SKIP_WAITING'
  );
}
