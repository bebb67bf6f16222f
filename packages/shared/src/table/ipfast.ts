/**
 * Hot-path IPv4 helpers. The shared parseIp/cidrContains/addressScope are correct for every form
 * but parse the address (regex per octet) on each call; run over 200k sockets per tick that is
 * seconds. These do IPv4 (and v4-mapped) with integer arithmetic and defer everything else to
 * the shared functions, so their answers are the same.
 */
import { addressScope, cidrContains, type AddressScope, type Cidr } from '../ip.js';

/** Dotted quad (or `::ffff:a.b.c.d`) → unsigned 32-bit number, or -1. No regex, no allocation. */
export function ipv4Number(address: string): number {
  let start = 0;
  if (address.charCodeAt(0) === 58 /* : */) {
    if (!address.startsWith('::ffff:')) return -1;
    start = 7;
  }
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return n * 256 + part;
}

/** A CIDR test that is integer-only for IPv4 addresses against IPv4 (or v4-mapped) prefixes. */
export function cidrTester(cidr: Cidr): (address: string) => boolean {
  // IPv4 prefixes are stored v4-mapped with 96 extra bits.
  const b = cidr.bytes;
  let mapped = cidr.bits >= 96;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped && (b[10] !== 0xff || b[11] !== 0xff)) mapped = false;
  if (!mapped) {
    // IPv6 prefix: IPv4 addresses can only match if the prefix covers ::ffff:0:0/96 — let the shared code decide.
    return (address) => cidrContains(cidr, address);
  }
  const prefix = cidr.bits - 96;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = ((((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0) & mask) >>> 0;
  return (address) => {
    const n = ipv4Number(address);
    if (n >= 0) return ((n & mask) >>> 0) === net;
    return address.includes(':') ? cidrContains(cidr, address) : false;
  };
}

const V4_SCOPES: [number, number, AddressScope][] = [
  [0x00000000, 32, 'unspecified'],
  [0x7f000000, 8, 'loopback'],
  [0x0a000000, 8, 'private'],
  [0xac100000, 12, 'private'],
  [0xc0a80000, 16, 'private'],
  [0x64400000, 10, 'private'],
  [0xa9fe0000, 16, 'link-local'],
  [0xe0000000, 4, 'multicast'],
];

const scopeMemo = new Map<string, AddressScope>();

/** addressScope with an integer fast path for IPv4 and a bounded memo for the rest. */
export function scopeOf(address: string): AddressScope {
  const n = ipv4Number(address);
  if (n >= 0) {
    for (const [net, bits, scope] of V4_SCOPES) {
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if (((n & mask) >>> 0) === net) return scope;
    }
    return 'public';
  }
  let s = scopeMemo.get(address);
  if (s === undefined) {
    s = addressScope(address);
    if (scopeMemo.size > 20_000) scopeMemo.clear();
    scopeMemo.set(address, s);
  }
  return s;
}
