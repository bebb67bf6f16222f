/**
 * Address and number helpers shared by the non-socket /proc parsers (routes, if_inet6, igmp,
 * conntrack). Pure: no fs.
 *
 * Byte order differs between files, and it is easy to get wrong:
 *  - /proc/net/route, /proc/net/igmp print an IPv4 `__be32` with `%08X` as if it were a host
 *    integer, so on little-endian machines `0100007F` is 127.0.0.1 (byte order reversed).
 *  - /proc/net/ipv6_route, if_inet6, igmp6 print the 16 bytes in network order (`%pi6`),
 *    unlike /proc/net/tcp6 which prints four host-order words.
 */
import { parseIp } from '@netscope/shared';

const HEX_RE = /^[0-9A-Fa-f]+$/;

/** `0100007F` (host-order little-endian hex of a network-order IPv4) → `127.0.0.1`; null when not 8 hex digits. */
export function ipv4FromHexLE(hex: string): string | null {
  if (hex.length !== 8 || !HEX_RE.test(hex)) return null;
  const n = parseInt(hex, 16);
  return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`;
}

/** 32 hex digits in network byte order → 16 bytes; null when malformed. */
export function ipv6BytesFromHex(hex: string): Uint8Array | null {
  if (hex.length !== 32 || !HEX_RE.test(hex)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** 32 hex digits in network byte order → canonical IPv6 text; null when malformed. */
export function ipv6FromHex(hex: string): string | null {
  const bytes = ipv6BytesFromHex(hex);
  return bytes === null ? null : formatIpv6(bytes);
}

/**
 * 16 bytes → RFC 5952 text: lower case, no leading zeros, the longest run (leftmost on a tie) of two
 * or more zero groups compressed to `::`. v4-mapped (`::ffff:0:0/96`) keeps the dotted tail, as
 * inet_ntop and the schema do.
 */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  const v4Mapped = groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff;
  if (v4Mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Any IPv4/IPv6 text (e.g. conntrack's uncompressed `%pI6`) → canonical text; null when not an address. */
export function canonicalIp(text: string): string | null {
  if (!text.includes(':')) {
    const bytes = parseIp(text);
    return bytes === null ? null : `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  const bytes = parseIp(text);
  return bytes === null ? null : formatIpv6(bytes);
}

/** Prefix length of a contiguous IPv4 netmask given as a host-order integer read from LE hex; null when not contiguous. */
export function prefixLenFromMaskLE(maskLE: number): number | null {
  // Bytes of the network-order mask, as the LE hex shows them reversed.
  const m = (((maskLE & 0xff) << 24) | (((maskLE >>> 8) & 0xff) << 16) | (((maskLE >>> 16) & 0xff) << 8) | (maskLE >>> 24)) >>> 0;
  const inverted = ~m >>> 0;
  // Contiguous ones followed by zeros: the inverse plus one is a power of two (or zero overflow).
  if ((inverted & (inverted + 1)) !== 0) return null;
  let len = 0;
  for (let bit = 31; bit >= 0 && ((m >>> bit) & 1) === 1; bit--) len++;
  return len;
}

/**
 * Unsigned decimal counter up to u64 width. Exact up to 2^53; larger values (≤ 20 digits) come back
 * as the nearest double rather than dropping the line, since a driver's bogus u64 must not hide the
 * interface. null when not all digits.
 */
export function parseCounter(token: string | undefined): number | null {
  if (token === undefined || token.length === 0 || token.length > 20) return null;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(token);
}

const tokenScan: CounterScan = { value: 0, end: 0 };

/** Signed decimal (snmp's Tcp MaxConn is -1), same width rules as parseCounter. */
export function parseSignedCounter(token: string | undefined): number | null {
  if (token === undefined) return null;
  return scanCounterAt(token, 0, tokenScan) && tokenScan.end === token.length ? tokenScan.value : null;
}

/** Where scanCounterAt left off: the value read and the index after it. */
export interface CounterScan {
  value: number;
  end: number;
}

/**
 * The token at `text[pos]` (up to a space, tab, newline or the end) read as parseSignedCounter
 * reads it, without cutting it out of the text: true with `out` filled, false when
 * parseSignedCounter would refuse it (no digits, more than 20, any other character).
 */
export function scanCounterAt(text: string, pos: number, out: CounterScan): boolean {
  let i = pos;
  let c = text.charCodeAt(i);
  const negative = c === 45;
  if (negative) c = text.charCodeAt(++i);
  const from = i;
  let v = 0;
  while (c >= 48 && c <= 57) {
    v = v * 10 + (c - 48);
    c = text.charCodeAt(++i);
  }
  const digits = i - from;
  if (digits === 0 || digits > 20) return false;
  if (!(c === 32 || c === 9 || c === 10 || Number.isNaN(c))) return false;
  // past 15 digits the sum may round differently from Number()'s reading of the string
  if (digits > 15) v = Number(text.slice(from, i));
  out.value = negative ? -v : v;
  out.end = i;
  return true;
}

/** Split on runs of spaces and tabs, dropping empties; no regex so it stays cheap on huge files. */
export function fields(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
    if (space) {
      if (start >= 0) {
        out.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/** Lines of a /proc text, tolerating CRLF and a missing final newline; the trailing empty line is dropped. */
export function lines(text: string): string[] {
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  for (let i = 0; i < out.length; i++) {
    const l = out[i]!;
    if (l.endsWith('\r')) out[i] = l.slice(0, -1);
  }
  return out;
}

/**
 * An empty record without a prototype, for keys taken from the file (counter and group names):
 * a hostile `__proto__` name becomes an ordinary key instead of reaching Object.prototype.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
