// Ferry meets Chromium's install criteria: a manifest that parses, icons that load at their
// declared sizes, a worker that controls the page, a theme colour.
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerProcess } from '../support/server-process.ts';
import { describeInChromium, launchChromiumProfile } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';
import { type ServedApp, serveFreshBuild } from './support/served-app.ts';

interface ManifestIcon {
  src: string;
  sizes: string;
  type?: string;
  purpose?: string;
}

let app: ServedApp;
let server: ServerProcess;
let profile: BrowserContext;
let ferry: FerryPage;

describeInChromium('install criteria', () => {
  beforeAll(async () => {
    app = await serveFreshBuild('install');
    server = app.server;
    profile = await launchChromiumProfile(join(app.workDir, 'profile'));
    ferry = await FerryPage.open(profile, server.url(), 'install');
    await ferry.pickName('Ada');
    await ferry.waitForServiceWorkerControl();
  });

  afterAll(async () => {
    await profile?.close();
    await app?.dispose();
  });

  it('links a manifest that parses, with the fields an installed app needs', async () => {
    const manifest = await ferry.page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
      if (!link) return null;
      return (await fetch(link.href)).json() as Promise<Record<string, unknown>>;
    });
    expect(manifest).toMatchObject({
      name: 'Ferry',
      short_name: 'Ferry',
      description: expect.any(String),
      start_url: '/',
      scope: '/',
      display: 'standalone',
      theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
      background_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
    });
    const icons = (manifest?.icons ?? []) as ManifestIcon[];
    expect(icons.map((icon) => [icon.sizes, icon.purpose ?? 'any'])).toEqual([
      ['192x192', 'any'],
      ['512x512', 'any'],
      ['512x512', 'maskable'],
    ]);
  });

  it('serves every icon at the size it declares', async () => {
    const icons = await ferry.page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
      const apple = document.querySelector<HTMLLinkElement>('link[rel=apple-touch-icon]');
      if (!link || !apple) throw new Error('no manifest or apple-touch-icon link');
      const manifest = (await (await fetch(link.href)).json()) as { icons: ManifestIcon[] };
      const declared = [
        ...manifest.icons.map((icon) => ({
          url: new URL(icon.src, link.href).href,
          sizes: icon.sizes,
        })),
        { url: apple.href, sizes: '180x180' },
      ];
      return Promise.all(
        declared.map(async ({ url, sizes }) => {
          const image = new Image();
          image.src = url;
          await image.decode();
          return { url, sizes, loaded: `${image.naturalWidth}x${image.naturalHeight}` };
        }),
      );
    });
    expect(icons).toHaveLength(4);
    for (const icon of icons) expect(icon.loaded, icon.url).toBe(icon.sizes);
  });

  it('is controlled by its service worker and sets a theme colour', async () => {
    const page = await ferry.page.evaluate(() => ({
      controller: navigator.serviceWorker.controller?.scriptURL ?? null,
      themeColors: [...document.querySelectorAll('meta[name=theme-color]')].map((meta) =>
        meta.getAttribute('content'),
      ),
    }));
    expect(page.controller).toBe(`${server.url()}/sw.js`);
    expect(page.themeColors.length).toBeGreaterThan(0);
    for (const color of page.themeColors) expect(color).toMatch(/^#[0-9a-f]{6}$/i);
  });

  it('passes Chromium’s own installability check and offers the Install button', async () => {
    const cdp = await profile.newCDPSession(ferry.page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    await ferry.page.getByTestId('install-button').waitFor({ timeout: 15_000 });
    await cdp.detach();
  });

  it('sends the cache headers the update flow relies on', async () => {
    const cacheControl = async (path: string) =>
      (await fetch(`${server.url()}${path}`)).headers.get('cache-control');
    const script = await ferry.page.evaluate(
      () => document.querySelector<HTMLScriptElement>('script[type=module]')?.src ?? '',
    );
    expect(await cacheControl('/sw.js')).toBe('no-cache');
    expect(await cacheControl('/index.html')).toBe('no-cache');
    expect(await cacheControl('/manifest.webmanifest')).toBe('no-cache');
    expect(await cacheControl(new URL(script).pathname)).toContain('immutable');
  });

  it('never answers the API, the health check or socket.io with the app shell', async () => {
    const denied = ['/healthz', '/api/session', '/socket.io/?EIO=4&transport=polling'];
    for (const path of denied) {
      const response = await ferry.page.goto(`${server.url()}${path}`);
      expect(response?.fromServiceWorker(), path).toBe(false);
    }
    // Offline they fail as the network does, instead of showing a page that looks fine.
    await profile.setOffline(true);
    try {
      for (const path of denied) {
        await expect(ferry.page.goto(`${server.url()}${path}`), path).rejects.toThrow(
          /ERR_INTERNET_DISCONNECTED/,
        );
      }
      // The app's own page is served offline, with the room in the hash.
      const tab = await profile.newPage();
      const appPage = await tab.goto(`${server.url()}/#/room/install`);
      expect(appPage?.fromServiceWorker()).toBe(true);
      await tab.getByTestId('composer-input').waitFor({ timeout: 15_000 });
      await tab.close();
    } finally {
      await profile.setOffline(false);
    }
  });
});
