import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressScope, cidrContains, parseCidr, cidrTester, ipv4Number, scopeOf } from '@netscope/shared';

describe('ipv4Number', () => {
  it('parses dotted quads and v4-mapped, rejects the rest', () => {
    expect(ipv4Number('0.0.0.0')).toBe(0);
    expect(ipv4Number('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4Number('10.0.0.1')).toBe(0x0a000001);
    expect(ipv4Number('::ffff:10.0.0.1')).toBe(0x0a000001);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', 'a.b.c.d', '::1', '1.2.3.4 ', '1234.1.1.1']) expect(ipv4Number(bad)).toBe(-1);
  });
});

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const addr = fc.oneof(v4, v4.map((a) => `::ffff:${a}`), fc.constantFrom('::1', '::', 'fe80::1', '2001:db8::5', 'fd00::2'));

describe('agrees with the shared helpers', () => {
  it('cidrTester ≡ cidrContains', () => {
    fc.assert(
      fc.property(v4, fc.nat(32), addr, (net, bits, a) => {
        const cidr = parseCidr(`${net}/${bits}`)!;
        expect(cidrTester(cidr)(a)).toBe(cidrContains(cidr, a));
      }),
      { numRuns: 2000 },
    );
    for (const c of ['2001:db8::/32', '::/0', 'fe80::/10', '::ffff:0:0/96']) {
      const cidr = parseCidr(c)!;
      for (const a of ['10.0.0.1', '2001:db8::1', 'fe80::2', '::ffff:1.2.3.4']) expect(cidrTester(cidr)(a)).toBe(cidrContains(cidr, a));
    }
  });
  it('scopeOf ≡ addressScope', () => {
    fc.assert(
      fc.property(addr, (a) => {
        expect(scopeOf(a)).toBe(addressScope(a));
      }),
      { numRuns: 3000 },
    );
    for (const a of ['127.0.0.1', '10.1.1.1', '172.16.0.1', '172.32.0.1', '192.168.1.1', '100.64.0.1', '169.254.1.1', '224.0.0.1', '8.8.8.8', '0.0.0.0']) {
      expect(scopeOf(a)).toBe(addressScope(a));
    }
  });
});
