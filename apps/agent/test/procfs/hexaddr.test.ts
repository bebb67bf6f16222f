import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalIp,
  dict,
  fields,
  formatIpv6,
  ipv4FromHexLE,
  ipv6FromHex,
  lines,
  parseCounter,
  parseSignedCounter,
  prefixLenFromMaskLE,
} from '../../src/procfs/hexaddr.js';
import { PROPERTY_RUNS } from './nethelpers.js';

/** The WHATWG URL host serializer compresses IPv6 as RFC 5952 does (but prints v4-mapped in hex). */
const whatwg = (bytes: Uint8Array): string => {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
};

describe('IPv4 from host-order hex', () => {
  it.each([
    ['0100007F', '127.0.0.1'],
    ['010200C0', '192.0.2.1'],
    ['00000000', '0.0.0.0'],
    ['FFFFFFFF', '255.255.255.255'],
    ['010000e0', '224.0.0.1'],
    ['0100007', null],
    ['0100007G', null],
    ['', null],
  ])('%s → %s', (hex, ip) => expect(ipv4FromHexLE(hex)).toBe(ip));
});

describe('prefixLenFromMaskLE', () => {
  it.each([
    [0x00000000, 0],
    [0x000000ff, 8],
    [0x00ffffff, 24],
    [0xfeffffff, 31],
    [0xffffffff, 32],
    [0x00000080, 1],
    [0x00ff00ff, null],
    [0x000000fe, 7],
    [0x0000007f, null],
  ])('%i → %s', (mask, len) => expect(prefixLenFromMaskLE(mask)).toBe(len));
});

describe('IPv6 text (RFC 5952)', () => {
  it.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fe8000000000000000fc00fffe000001', 'fe80::fc:ff:fe00:1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // longest run wins
    ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['FF020000000000000000000000000001', 'ff02::1'],
    ['ff02000000000000000000000000000', null],
    ['zz020000000000000000000000000001', null],
  ])('%s → %s', (hex, text) => expect(ipv6FromHex(hex)).toBe(text));

  it('agrees with the WHATWG serializer on every non-v4-mapped address', () => {
    const sparse = fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), sparse), (b) => {
        const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
        fc.pre(!mapped);
        expect(formatIpv6(b)).toBe(whatwg(b));
      }),
      { numRuns: 1000 },
    );
  });

  it('canonicalIp re-spells uncompressed and IPv4 text, rejects junk', () => {
    expect(canonicalIp('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('0000:0000:0000:0000:0000:ffff:c000:0201')).toBe('::ffff:192.0.2.1');
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('192.0.2')).toBeNull();
    expect(canonicalIp('1:2:3')).toBeNull();
  });
});

describe('numbers and splitting', () => {
  it.each([
    ['0', 0],
    ['4294967296', 4294967296],
    ['9007199254740991', 9007199254740991],
    ['18446744073709551615', 2 ** 64],
    ['184467440737095516150', null],
    ['-1', null],
    ['1e3', null],
    ['', null],
    [' 1', null],
  ])('parseCounter(%j) → %s', (t, v) => expect(parseCounter(t)).toBe(v));

  it('parseSignedCounter', () => {
    expect(parseSignedCounter('-1')).toBe(-1);
    expect(parseSignedCounter('-')).toBeNull();
    expect(parseSignedCounter('--1')).toBeNull();
    expect(parseSignedCounter(undefined)).toBeNull();
  });

  it('fields splits on runs of spaces and tabs', () => {
    expect(fields('  a\t\tb  c \r')).toEqual(['a', 'b', 'c']);
    expect(fields('')).toEqual([]);
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(fields(s)).toEqual(s.split(/[ \t\r\v\f]+/).filter((x) => x !== ''));
      }),
      PROPERTY_RUNS,
    );
  });

  it('lines drops the final empty line and CRs', () => {
    expect(lines('a\r\nb\n')).toEqual(['a', 'b']);
    expect(lines('a')).toEqual(['a']);
    expect(lines('')).toEqual([]);
    expect(lines('\n\n')).toEqual(['', '']);
  });

  it('dict has no prototype to pollute', () => {
    const d = dict<number>();
    d['__proto__'] = 1;
    expect(Object.keys(d)).toEqual(['__proto__']);
    expect(JSON.stringify(d)).toBe('{"__proto__":1}');
  });
});
