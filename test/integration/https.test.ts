import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CA_CERT_PATH, CA_PAGE_PATH, caDownloadRoute } from '../../src/server/ca-download.ts';
import { loadOrCreateLocalTls } from '../../src/server/tls.ts';
import { describeWithCommand } from '../support/required-command.ts';
import { startTestServer, type TestServer, tempDir } from '../support/server.ts';
import { ServerProcess } from '../support/server-process.ts';

/** The longest a phone is asked to trust the local CA for. */
const MAX_CA_DAYS = 825;
const DAY_MS = 86_400_000;

/**
 * A certificate for `names` signed with the CA's key, as someone holding that key could
 * make one; answers the PEM file's path.
 */
function signWithCa(tlsDir: string, names: readonly string[], out: string): string {
  const altNames = names
    .map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`))
    .join(',');
  const ext = join(tlsDir, `${out}.ext`);
  writeFileSync(ext, `subjectAltName=${altNames}\n`);
  const key = join(tlsDir, `${out}.key`);
  const csr = join(tlsDir, `${out}.csr`);
  const cert = join(tlsDir, `${out}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-nodes',
      '-newkey',
      'rsa:2048',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${names[0]}`,
    ],
    { stdio: 'pipe' },
  );
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(tlsDir, 'ferry-ca.crt'),
      '-CAkey',
      join(tlsDir, 'ferry-ca.key'),
      '-set_serial',
      '7',
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  );
  return cert;
}

/** What `openssl verify` says of `cert` against the CA alone: "OK" or its complaint. */
function verifyAgainstCa(tlsDir: string, cert: string): string {
  try {
    execFileSync('openssl', ['verify', '-CAfile', join(tlsDir, 'ferry-ca.crt'), cert], {
      stdio: 'pipe',
    });
    return 'OK';
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: Buffer; stderr?: Buffer };
    return `${stdout}${stderr}`;
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
describeWithCommand('openssl', ['version'])('HTTPS for phones on the local network', () => {
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
        extraRoutes: caDownloadRoute(tls.caCert, tls.caFingerprint),
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

  it('cannot vouch for a site outside this machine, though it still vouches for the server', () => {
    const tlsDir = join(dir.path, 'tls');
    expect(verifyAgainstCa(tlsDir, join(tlsDir, 'ferry-server.crt'))).toContain('OK');
    for (const [file, names] of [
      ['google', ['www.google.com']],
      ['public-ip', ['8.8.8.8']],
      ['lookalike', ['localhost.evil.example']],
    ] as const) {
      const forged = signWithCa(tlsDir, names, file);
      expect(verifyAgainstCa(tlsDir, forged)).toMatch(/permitted subtree violation/);
    }
  });

  it('trusts a name of this machine that it signs later, such as a new LAN address', () => {
    const tlsDir = join(dir.path, 'tls');
    const later = signWithCa(tlsDir, ['phone-test.local', '10.1.2.3', '172.20.0.9'], 'later');
    expect(verifyAgainstCa(tlsDir, later)).toContain('OK');
  });

  it('keeps the CA key 0600 in a 0700 folder', () => {
    const tlsDir = join(dir.path, 'tls');
    expect(statSync(tlsDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(tlsDir, 'ferry-ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(tlsDir, 'ferry-server.key')).mode & 0o777).toBe(0o600);
  });

  it(`asks a phone to trust the CA for at most ${MAX_CA_DAYS} days`, () => {
    const ca = new X509Certificate(tls.caCert);
    const days = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / DAY_MS;
    expect(days).toBeLessThanOrEqual(MAX_CA_DAYS);
  });

  it('shows the CA fingerprint on a download page that links the certificate', async () => {
    const fingerprint = new X509Certificate(tls.caCert).fingerprint256;
    expect(tls.caFingerprint).toBe(fingerprint);
    const response = await fetchTrusting(
      tls.caCert,
      `https://127.0.0.1:${server.port}${CA_PAGE_PATH}`,
      'localhost',
    );
    expect(response.status).toBe(200);
    expect(response.body).toContain(fingerprint);
    expect(response.body).toContain(`href="${CA_CERT_PATH}"`);
    expect(response.body).not.toMatch(/<script|<style|style=/);
  });

  it('replaces a CA that an older Ferry made without name constraints', () => {
    const oldDir = join(dir.path, 'old-tls');
    mkdirSync(oldDir, { recursive: true });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-nodes',
        '-newkey',
        'rsa:2048',
        '-keyout',
        join(oldDir, 'ferry-ca.key'),
        '-out',
        join(oldDir, 'ferry-ca.crt'),
        '-days',
        '3650',
        '-subj',
        '/CN=Ferry local CA (old)',
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      { stdio: 'pipe' },
    );
    const unconstrained = readFileSync(join(oldDir, 'ferry-ca.crt'), 'utf8');
    const renewed = loadOrCreateLocalTls(oldDir, names);
    expect(renewed.caCert).not.toBe(unconstrained);
    const google = signWithCa(oldDir, ['www.google.com'], 'google');
    expect(verifyAgainstCa(oldDir, google)).toMatch(/permitted subtree violation/);
    expect(verifyAgainstCa(oldDir, join(oldDir, 'ferry-server.crt'))).toContain('OK');
  });

  it('prints the CA fingerprint when it starts, to check the phone against', async () => {
    const httpsDir = join(dir.path, 'printed-tls');
    const process = new ServerProcess({ port: 0, dbPath: join(dir.path, 'printed.db'), httpsDir });
    try {
      await process.start();
      const ca = new X509Certificate(readFileSync(join(httpsDir, 'ferry-ca.crt')));
      expect(process.log.join('\n')).toContain(ca.fingerprint256);
    } finally {
      await process.dispose();
    }
  });
});
