import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';

/** What an HTTPS server needs, in PEM. */
export interface TlsCredentials {
  key: string;
  cert: string;
}

/** The generated local certificate authority and the server certificate it signed. */
export interface LocalTls extends TlsCredentials {
  /** The CA certificate a phone must trust (served at CA_CERT_PATH). */
  caCert: string;
  /** Every name and address the server certificate is valid for. */
  names: string[];
}

/** Where a phone downloads the CA certificate to trust it (see docs/pwa.md). */
export const CA_CERT_PATH = '/ferry-ca.crt';
/** iOS trusts no TLS server certificate valid for longer than 825 days; stay well under. */
const SERVER_CERT_DAYS = 397;
const CA_CERT_DAYS = 3_650;

const FILES = {
  caKey: 'ferry-ca.key',
  caCert: 'ferry-ca.crt',
  serverKey: 'ferry-server.key',
  serverCert: 'ferry-server.crt',
  serverNames: 'ferry-server.names',
};

/**
 * The names a phone on the same network may use for this machine: its LAN addresses
 * (IPv4 and IPv6), its host name and `<host>.local` (mDNS), and the loopback names.
 */
export function localNames(): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname(), `${hostname()}.local`]);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && !address.address.startsWith('fe80:')) names.add(address.address);
    }
  }
  return [...names].sort();
}

/**
 * A certificate authority of this machine's own (made once, kept in `dir`) and a server
 * certificate it signs for `names`, remade whenever a name is missing from it (say, the
 * laptop joined another network). A phone trusts the CA once; the server certificate can
 * then change freely. Made with the `openssl` command-line tool.
 */
export function loadOrCreateLocalTls(
  dir: string,
  names: readonly string[] = localNames(),
): LocalTls {
  mkdirSync(dir, { recursive: true });
  const path = (file: string) => join(dir, file);
  if (!existsSync(path(FILES.caKey)) || !existsSync(path(FILES.caCert))) {
    openssl([
      'req',
      '-x509',
      '-new',
      '-nodes',
      '-newkey',
      'rsa:2048',
      '-keyout',
      path(FILES.caKey),
      '-out',
      path(FILES.caCert),
      '-days',
      String(CA_CERT_DAYS),
      '-subj',
      `/CN=Ferry local CA (${hostname()})/O=Ferry development`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    chmodSync(path(FILES.caKey), 0o600);
  }

  const covered = existsSync(path(FILES.serverNames))
    ? readFileSync(path(FILES.serverNames), 'utf8').split('\n')
    : [];
  const fresh = existsSync(path(FILES.serverCert)) && names.every((name) => covered.includes(name));
  if (!fresh) {
    const all = [...new Set([...names, ...covered.filter(Boolean)])].sort();
    signServerCertificate(dir, all);
    writeFileSync(path(FILES.serverNames), all.join('\n'));
  }

  return {
    key: readFileSync(path(FILES.serverKey), 'utf8'),
    cert: readFileSync(path(FILES.serverCert), 'utf8'),
    caCert: readFileSync(path(FILES.caCert), 'utf8'),
    names: readFileSync(path(FILES.serverNames), 'utf8').split('\n'),
  };
}

function signServerCertificate(dir: string, names: readonly string[]): void {
  const path = (file: string) => join(dir, file);
  const request = path('ferry-server.csr');
  const extensions = path('ferry-server.ext');
  const altNames = names.map((name) => (isIpAddress(name) ? `IP:${name}` : `DNS:${name}`));
  writeFileSync(
    extensions,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${altNames.join(',')}`,
    ].join('\n'),
  );
  openssl([
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-keyout',
    path(FILES.serverKey),
    '-out',
    request,
    '-subj',
    '/CN=Ferry development server',
  ]);
  chmodSync(path(FILES.serverKey), 0o600);
  openssl([
    'x509',
    '-req',
    '-in',
    request,
    '-CA',
    path(FILES.caCert),
    '-CAkey',
    path(FILES.caKey),
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    String(SERVER_CERT_DAYS),
    '-extfile',
    extensions,
    '-out',
    path(FILES.serverCert),
  ]);
}

function isIpAddress(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: 'pipe' });
  } catch (error) {
    const detail =
      error && typeof error === 'object' && 'stderr' in error
        ? String(error.stderr)
        : String(error);
    throw new Error(
      'HTTPS=1 makes a local certificate with the `openssl` command, which failed ' +
        `(install OpenSSL, or give your own with FERRY_TLS_CERT and FERRY_TLS_KEY): ${detail}`,
    );
  }
}

/** Serves the CA certificate at CA_CERT_PATH, for phones to download and trust. */
export function caCertificateRoute(caCert: string) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if ((req.url ?? '').split('?')[0] !== CA_CERT_PATH) return false;
    res.writeHead(200, {
      // This type makes iOS Safari offer the certificate as a profile to install.
      'Content-Type': 'application/x-x509-ca-cert',
      'Cache-Control': 'no-store',
    });
    res.end(caCert);
    return true;
  };
}

/** What `HTTPS=1` gives the server: its credentials, the CA download, and names to show. */
export interface HttpsSetup {
  tls: TlsCredentials;
  /** Serves the generated CA certificate; absent with a certificate of your own. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** LAN addresses to print, so a phone on the same network knows where to go. */
  lanAddresses: string[];
}

/** Your own certificate (FERRY_TLS_CERT/KEY) if given, else the generated local one. */
export function prepareHttps(config: {
  dir: string;
  certFile: string | null;
  keyFile: string | null;
}): HttpsSetup {
  const lanAddresses = localNames().filter(
    (name) => /^[\d.]+$/.test(name) && !name.startsWith('127.'),
  );
  if (config.certFile && config.keyFile) {
    return {
      tls: {
        cert: readFileSync(config.certFile, 'utf8'),
        key: readFileSync(config.keyFile, 'utf8'),
      },
      lanAddresses,
    };
  }
  const local = loadOrCreateLocalTls(config.dir);
  return {
    tls: { key: local.key, cert: local.cert },
    extraRoutes: caCertificateRoute(local.caCert),
    lanAddresses,
  };
}
