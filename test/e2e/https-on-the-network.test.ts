// `HTTPS=1 npm start` is how a phone on the same network gets Ferry with its
// service worker (which needs a secure context anywhere but localhost).
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServerProcess } from '../support/server-process.ts';
import { type AppBuild, buildApp } from './support/app-build.ts';
import { CHROMIUM_PATH, describeInChromium, QUIET_ARGS } from './support/chromium.ts';
import { FerryPage } from './support/ferry-page.ts';

/** This machine's first LAN address: what a phone on the same network would open. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
if (!lanAddress) console.warn('SKIPPING the HTTPS e2e test: this machine has no LAN address.');

let build: AppBuild;
let server: ServerProcess;
let browser: Browser;
let workDir: string;

describeInChromium('HTTPS on the local network', () => {
  beforeAll(async () => {
    if (!lanAddress) return;
    workDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-https-'));
    build = await buildApp('https');
    server = new ServerProcess({
      port: 0,
      dbPath: join(workDir, 'ferry.db'),
      staticDir: build.dir,
      httpsDir: join(workDir, 'tls'),
      host: lanAddress,
    });
    await server.start();
    // A phone trusts the generated CA once; Chromium is told to trust the server's key.
    const cert = new X509Certificate(readFileSync(join(workDir, 'tls/ferry-server.crt')));
    const spki = createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...QUIET_ARGS, `--ignore-certificate-errors-spki-list=${spki}`],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    build?.dispose();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it.skipIf(!lanAddress)(
    'runs Ferry with its service worker at the LAN address, as a phone would',
    async () => {
      const context = await browser.newContext();
      const ferry = await FerryPage.open(context, server.url(), 'https');
      expect(ferry.page.url()).toMatch(/^https:\/\//);
      await ferry.pickName('Ada');
      await ferry.waitForConnection('connected');
      await ferry.waitForServiceWorkerControl();
      expect(await ferry.page.evaluate(() => window.isSecureContext)).toBe(true);
      await context.close();
    },
  );

  it.skipIf(!lanAddress)(
    'shows the CA download page, with its fingerprint, within the CSP',
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      const response = await page.goto(`${server.url()}/ferry-ca.html`);
      expect(response?.status()).toBe(200);
      const ca = new X509Certificate(readFileSync(join(workDir, 'tls/ferry-ca.crt')));
      expect(await page.textContent('body')).toContain(ca.fingerprint256);
      expect(await page.getAttribute('a[href="/ferry-ca.crt"]', 'download')).toBe('ferry-ca.crt');
      expect(refused).toEqual([]);
      await context.close();
    },
  );
});
