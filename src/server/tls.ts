import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { caDownloadRoute } from './ca-download.ts';
import {
  type CaScope,
  caScope,
  isInScope,
  nameConstraintsExtension,
  parseCaScope,
} from './local-ca-scope.ts';

/** What an HTTPS server needs, in PEM. */
export interface TlsCredentials {
  key: string;
  cert: string;
}

/** The generated local certificate authority and the server certificate it signed. */
export interface LocalTls extends TlsCredentials {
  /** The CA certificate a phone must trust (served at CA_CERT_PATH). */
  caCert: string;
  /** The CA certificate's SHA-256 fingerprint (`AB:CD:…`), to check a download against. */
  caFingerprint: string;
  /** Whether this call made a new CA, which every phone must trust anew. */
  caCreated: boolean;
  /** Every name and address the server certificate is valid for. */
  names: string[];
}

/** iOS trusts no TLS server certificate valid for longer than 825 days; stay well under. */
const SERVER_CERT_DAYS = 397;
/**
 * A phone trusts the CA for two years, not ten: a key copied off a laptop stops being
 * useful on its own. It is remade (and must be trusted again) when it gets this close to
 * its end, and the server certificate is re-signed this close to its own.
 */
const CA_CERT_DAYS = 730;
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
/** The folder holds private keys: only their owner may list or read it. */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_KEY_MODE = 0o600;

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
 * laptop joined another network) or it nears its end. A phone trusts the CA once; the
 * server certificate can then change freely. The CA is name-constrained to this machine's
 * local names and private addresses (see local-ca-scope.ts); names outside that scope (a
 * public address) are left out of the server certificate, which would otherwise fail as a
 * whole. A CA made without constraints (by an older Ferry) or near its end is replaced.
 * Made with the `openssl` command-line tool.
 */
export function loadOrCreateLocalTls(
  dir: string,
  names: readonly string[] = localNames(),
): LocalTls {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
  const path = (file: string) => join(dir, file);

  const caCreated = !usableCa(path(FILES.caKey), path(FILES.caCert));
  if (caCreated) createCa(path(FILES.caKey), path(FILES.caCert), names);
  const scope = readScope(path(FILES.caCert));
  const inScope = (name: string) => scope !== null && isInScope(name, scope);
  const wanted = names.filter(inScope);

  const covered = caCreated ? [] : readNames(path(FILES.serverNames));
  const fresh =
    !caCreated &&
    existsSync(path(FILES.serverCert)) &&
    !nearsItsEnd(readFileSync(path(FILES.serverCert), 'utf8')) &&
    wanted.every((name) => covered.includes(name));
  if (!fresh) {
    const all = [...new Set([...wanted, ...covered.filter(inScope)])];
    all.sort();
    signServerCertificate(dir, all);
    writeFileSync(path(FILES.serverNames), all.join('\n'));
  }

  const caCert = readFileSync(path(FILES.caCert), 'utf8');
  return {
    key: readFileSync(path(FILES.serverKey), 'utf8'),
    cert: readFileSync(path(FILES.serverCert), 'utf8'),
    caCert,
    caFingerprint: new X509Certificate(caCert).fingerprint256,
    caCreated,
    names: readNames(path(FILES.serverNames)),
  };
}

function readNames(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

function nearsItsEnd(pem: string): boolean {
  return Date.parse(new X509Certificate(pem).validTo) - Date.now() < RENEW_BEFORE_DAYS * DAY_MS;
}

/** A CA that can be kept: both files there, name-constrained, and not near its end. */
function usableCa(keyFile: string, certFile: string): boolean {
  if (!existsSync(keyFile) || !existsSync(certFile)) return false;
  if (nearsItsEnd(readFileSync(certFile, 'utf8'))) return false;
  return readScope(certFile) !== null;
}

/** What the CA in `certFile` may vouch for, read from its name constraints. */
function readScope(certFile: string): CaScope | null {
  return parseCaScope(openssl(['x509', '-in', certFile, '-noout', '-ext', 'nameConstraints']));
}

function createCa(keyFile: string, certFile: string, names: readonly string[]): void {
  openssl([
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(CA_CERT_DAYS),
    '-subj',
    `/CN=Ferry local CA (${hostname()})/O=Ferry development`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-addext',
    nameConstraintsExtension(caScope(hostname(), names)),
  ]);
  chmodSync(keyFile, PRIVATE_KEY_MODE);
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
  chmodSync(path(FILES.serverKey), PRIVATE_KEY_MODE);
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

/** Runs openssl and answers what it printed. */
function openssl(args: string[]): string {
  try {
    return execFileSync('openssl', args, { stdio: 'pipe', encoding: 'utf8' });
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

/** What `HTTPS=1` gives the server: its credentials, the CA download, and names to show. */
export interface HttpsSetup {
  tls: TlsCredentials;
  /** The generated CA, its download route and fingerprint; absent with a certificate of your own. */
  localCa?: {
    routes: (req: IncomingMessage, res: ServerResponse) => boolean;
    fingerprint: string;
    created: boolean;
  };
  /** LAN addresses to print, so a phone on the same network knows where to go. */
  lanAddresses: string[];
}

/** Your own certificate (FERRY_TLS_CERT/KEY) if given, else the generated local one. */
export function prepareHttps(config: {
  dir: string;
  certFile: string | null;
  keyFile: string | null;
}): HttpsSetup {
  const ipv4Lan = (names: readonly string[]) =>
    names.filter((name) => /^[\d.]+$/.test(name) && !name.startsWith('127.'));
  if (config.certFile && config.keyFile) {
    return {
      tls: {
        cert: readFileSync(config.certFile, 'utf8'),
        key: readFileSync(config.keyFile, 'utf8'),
      },
      lanAddresses: ipv4Lan(localNames()),
    };
  }
  const local = loadOrCreateLocalTls(config.dir);
  return {
    tls: { key: local.key, cert: local.cert },
    localCa: {
      routes: caDownloadRoute(local.caCert, local.caFingerprint),
      fingerprint: local.caFingerprint,
      created: local.caCreated,
    },
    // Only addresses the certificate covers: a public one would fail TLS on the phone.
    lanAddresses: ipv4Lan(local.names),
  };
}
