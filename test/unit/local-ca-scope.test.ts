import { describe, expect, it } from 'vitest';
import {
  caScope,
  isInScope,
  nameConstraintsExtension,
  parseCaScope,
} from '../../src/server/local-ca-scope.ts';

describe('the local CA scope', () => {
  const scope = caScope('Laptop', ['127.0.0.1', '192.168.1.20', '203.0.113.7', 'fd00::2']);

  it.each([
    ['localhost', true],
    ['laptop', true],
    ['laptop.local', true],
    ['phone.local', true],
    ['192.168.1.20', true],
    ['10.9.8.7', true],
    ['172.31.0.1', true],
    ['fd00::99', true],
    ['::1', true],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['8.8.8.8', false],
    ['2001:db8::1', false],
    ['www.google.com', false],
    ['localhost.evil.example', false],
    ['notlocal', false],
  ])('covers %s: %s', (name, covered) => {
    expect(isInScope(name, scope)).toBe(covered);
  });

  it('reads back from openssl output the scope it wrote', () => {
    const extension = nameConstraintsExtension(scope);
    // What `openssl x509 -noout -ext nameConstraints` prints for it, one name a line.
    const printed = `X509v3 Name Constraints: critical\n    Permitted:\n${extension
      .replace('nameConstraints=critical,', '')
      .split(',')
      .map((entry) => `      ${entry.replace('permitted;', '')}`)
      .join('\n')}`;
    const parsed = parseCaScope(printed);
    expect(parsed?.domains).toEqual(scope.domains);
    expect(parsed?.ranges.map((range) => range.prefix)).toEqual(
      scope.ranges.map((range) => range.prefix),
    );
  });

  it('finds no scope in a CA without name constraints', () => {
    expect(parseCaScope('')).toBeNull();
  });
});
