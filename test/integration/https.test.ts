import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CA_CERT_PATH, caCertificateRoute, loadOrCreateLocalTls } from '../../src/server/tls.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** GET over HTTPS, trusting only `ca`, asking for the certificate of `servername`. */
function fetchTrusting(
  ca: string,
  url: string,
  servername: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca, servername }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

// `HTTPS=1 npm start`: a CA of the machine's own signs the server's certificate.
describe.skipIf(!hasOpenssl())('HTTPS for phones on the local network', () => {
  const dir = tempDir('ferry-tls-');
  const names = ['localhost', '127.0.0.1', '192.168.1.20', 'laptop.local'];
  let tls: ReturnType<typeof loadOrCreateLocalTls>;
  let server: TestServer;

  beforeAll(async () => {
    tls = loadOrCreateLocalTls(join(dir.path, 'tls'), names);
    server = await startTestServer({
      dbPath: join(dir.path, 'ferry.db'),
      serverOptions: {
        tls: { key: tls.key, cert: tls.cert },
        extraRoutes: caCertificateRoute(tls.caCert),
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    dir.dispose();
  });

  it('makes a server certificate for every LAN name, signed by the local CA', () => {
    const cert = new X509Certificate(tls.cert);
    const ca = new X509Certificate(tls.caCert);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(ca.ca).toBe(true);
    for (const name of names) expect(cert.checkHost(name) ?? cert.checkIP(name)).toBe(name);
  });

  it('serves the app over TLS that a device trusting the CA accepts, by name and by address', async () => {
    for (const servername of ['localhost', 'laptop.local']) {
      const response = await fetchTrusting(
        tls.caCert,
        `https://127.0.0.1:${server.port}/healthz`,
        servername,
      );
      expect(response.status).toBe(200);
    }
  });

  it('offers the CA certificate for download, for a phone to trust', async () => {
    const response = await fetchTrusting(
      tls.caCert,
      `https://127.0.0.1:${server.port}${CA_CERT_PATH}`,
      'localhost',
    );
    expect(response.status).toBe(200);
    expect(response.body).toBe(tls.caCert);
  });

  it('keeps the CA across restarts and re-signs only when a new address appears', () => {
    const again = loadOrCreateLocalTls(join(dir.path, 'tls'), names);
    expect(again.caCert).toBe(tls.caCert);
    expect(again.cert).toBe(tls.cert);
    const moved = loadOrCreateLocalTls(join(dir.path, 'tls'), [...names, '10.0.0.7']);
    expect(moved.caCert).toBe(tls.caCert);
    expect(moved.cert).not.toBe(tls.cert);
    expect(new X509Certificate(moved.cert).checkIP('10.0.0.7')).toBe('10.0.0.7');
  });
});
