import { describe, expect, it } from 'vitest';
import { APP_PAGES, isSkipWaitingMessage } from '../../src/sw/routes.ts';

/** As workbox's NavigationRoute matches: the URL's pathname and search. */
function answeredWithTheApp(pathAndSearch: string): boolean {
  return APP_PAGES.some((page) => page.test(pathAndSearch));
}

describe('the navigations the service worker answers with the app', () => {
  it.each(['/', '/index.html', '/?source=homescreen', '/index.html?utm_source=x'])(
    'include %s',
    (path) => {
      expect(answeredWithTheApp(path)).toBe(true);
    },
  );

  it.each([
    '/ferry-ca.crt',
    '/healthz',
    '/readyz',
    '/metrics',
    '/api/session',
    '/socket.io/?EIO=4&transport=polling',
    '/sw.js',
    '/some/deep/link',
    '/index.html/more',
    '//index.html',
  ])('leave %s to the network', (path) => {
    expect(answeredWithTheApp(path)).toBe(false);
  });
});

describe('the skip-waiting message', () => {
  it('is what workbox-window posts', () => {
    expect(isSkipWaitingMessage({ type: 'SKIP_WAITING' })).toBe(true);
  });

  it.each([null, 'SKIP_WAITING', { type: 'OTHER' }])('is not %j', (data) => {
    expect(isSkipWaitingMessage(data)).toBe(false);
  });
});
