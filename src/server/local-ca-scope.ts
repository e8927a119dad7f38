import { BlockList, isIP } from 'node:net';

/**
 * What the local CA may vouch for. A phone that trusts the CA trusts every certificate it
 * signs, so the CA carries X.509 name constraints: a certificate it signs for any other
 * name (www.google.com, a stranger's address) fails verification on the phone, even if
 * the CA's key leaks. The scope is the names and addresses this machine has.
 */
export interface CaScope {
  /** DNS names; each covers itself and every name under it (RFC 5280). */
  domains: string[];
  ranges: AddressRange[];
}

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Private, loopback and link-local ranges: the addresses a machine has on a LAN. */
const PRIVATE_RANGES: readonly AddressRange[] = [
  { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
  { address: '172.16.0.0', prefix: 12, family: 'ipv4' },
  { address: '192.168.0.0', prefix: 16, family: 'ipv4' },
  { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
  { address: '169.254.0.0', prefix: 16, family: 'ipv4' },
  { address: '::1', prefix: 128, family: 'ipv6' },
  { address: 'fc00::', prefix: 7, family: 'ipv6' },
  { address: 'fe80::', prefix: 10, family: 'ipv6' },
];

/** `localhost` and mDNS's `.local` (`local` covers `laptop.local`). */
const LOCAL_DOMAINS = ['localhost', 'local'];

/**
 * The scope of a CA made now on the host `hostName` with these addresses: the local
 * domains and the host's name; the private ranges, and any other address the machine has
 * right now as that one address alone (some networks hand out public addresses).
 */
export function caScope(hostName: string, ownAddresses: readonly string[]): CaScope {
  const own = hostName.toLowerCase().replace(/\.$/, '');
  const domains = [...new Set([...LOCAL_DOMAINS, ...(own && isIP(own) === 0 ? [own] : [])])];
  const privateScope: CaScope = { domains, ranges: [...PRIVATE_RANGES] };
  const extra = ownAddresses
    .filter((address) => isIP(address) !== 0 && !isInScope(address, privateScope))
    .map((address): AddressRange => {
      const v4 = isIP(address) === 4;
      return { address, prefix: v4 ? 32 : 128, family: v4 ? 'ipv4' : 'ipv6' };
    });
  return { domains, ranges: [...PRIVATE_RANGES, ...extra] };
}

/** The CA's `nameConstraints` extension, in openssl's `-addext` syntax. */
export function nameConstraintsExtension(scope: CaScope): string {
  const names = [
    ...scope.domains.map((domain) => `DNS:${domain}`),
    ...scope.ranges.map((range) => `IP:${range.address}/${prefixMask(range)}`),
  ];
  return `nameConstraints=critical,${names.map((name) => `permitted;${name}`).join(',')}`;
}

/**
 * The scope a CA carries, from what `openssl x509 -noout -ext nameConstraints` prints of
 * it (`DNS:local`, `IP:10.0.0.0/255.0.0.0`, `IP:FC00:0:…/FE00:0:…`); null when it has none.
 */
export function parseCaScope(printed: string): CaScope | null {
  if (!printed.includes('Permitted')) return null;
  const domains = [...printed.matchAll(/DNS:(?<domain>\S+)/g)].map((match) =>
    (match.groups?.domain ?? '').toLowerCase(),
  );
  const ranges: AddressRange[] = [];
  for (const match of printed.matchAll(/IP:(?<address>[\dA-Fa-f.:]+)\/(?<mask>[\dA-Fa-f.:]+)/g)) {
    const { address = '', mask = '' } = match.groups ?? {};
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    ranges.push({ address: address.toLowerCase(), prefix: maskPrefix(mask, family), family });
  }
  return { domains, ranges };
}

/** Whether a certificate for `name` signed by a CA of this scope would verify. */
export function isInScope(name: string, scope: CaScope): boolean {
  const family = isIP(name);
  if (family !== 0) {
    const addresses = new BlockList();
    for (const range of scope.ranges)
      addresses.addSubnet(range.address, range.prefix, range.family);
    return addresses.check(name, family === 4 ? 'ipv4' : 'ipv6');
  }
  const lower = name.toLowerCase();
  return scope.domains.some((domain) => lower === domain || lower.endsWith(`.${domain}`));
}

/** The range's prefix as a netmask, as openssl wants it (`255.255.0.0`, `ffc0:0:…`). */
function prefixMask(range: AddressRange): string {
  const groups = range.family === 'ipv4' ? 4 : 8;
  const groupBits = range.family === 'ipv4' ? 8 : 16;
  return Array.from({ length: groups }, (_, group) => {
    const ones = Math.min(Math.max(range.prefix - group * groupBits, 0), groupBits);
    const value = (2 ** groupBits - 2 ** (groupBits - ones)) & (2 ** groupBits - 1);
    return range.family === 'ipv4' ? String(value) : value.toString(16);
  }).join(range.family === 'ipv4' ? '.' : ':');
}

/** How many leading one bits a netmask has. */
function maskPrefix(mask: string, family: 'ipv4' | 'ipv6'): number {
  const bits = (
    family === 'ipv4'
      ? mask.split('.').map((group) => Number(group).toString(2).padStart(8, '0'))
      : mask.split(':').map((group) => Number.parseInt(group, 16).toString(2).padStart(16, '0'))
  ).join('');
  const firstZero = bits.indexOf('0');
  return firstZero === -1 ? bits.length : firstZero;
}
