/**
 * /proc/net/if_inet6: every IPv6 address with its interface (what `ip -6 addr` and
 * `ifconfig`'s inet6 lines show).
 *
 *   fe8000000000000000fc00fffe000001 04 40 20 80     eth0
 *   address (network order)          ifindex plen scope flags name
 *
 * All numbers are hex. The kernel prints ifindex with `%02x`, so an index above 255 simply has
 * more digits; we take any width.
 */
import type { InterfaceAddress, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, cachedParse, readSource, result, statusOf } from './source.js';
import { fields, ipv6FromHex, lines } from './hexaddr.js';

/** IPv6 address scope (IPV6_ADDR_SCOPE_MASK bits of ipv6_addr_type, as ifconfig names them). */
export const IPV6_SCOPES: Readonly<Record<number, string>> = {
  0x00: 'global',
  0x10: 'host',
  0x20: 'link',
  0x40: 'site',
  0x80: 'compat',
};

/** Scope code → name; unknown codes keep their number, e.g. `scope-0x30`. */
export function ipv6ScopeName(code: number): string {
  return IPV6_SCOPES[code] ?? `scope-0x${code.toString(16).padStart(2, '0')}`;
}

/** Address flags (IFA_F_*, include/uapi/linux/if_addr.h), as `ip -6 addr` words. */
export const IFA_FLAGS: readonly (readonly [number, string])[] = [
  [0x01, 'secondary'],
  [0x02, 'nodad'],
  [0x04, 'optimistic'],
  [0x08, 'dadfailed'],
  [0x10, 'home'],
  [0x20, 'deprecated'],
  [0x40, 'tentative'],
  [0x80, 'permanent'],
];

export function ifaFlagNames(flags: number): string[] {
  return IFA_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

export interface IfInet6Address extends InterfaceAddress {
  family: 6;
  iface: string;
  ifindex: number;
  scopeCode: number;
  /** IFA_F_* bits (0x80 permanent, 0x40 tentative, 0x20 deprecated, 0x02 nodad …). */
  flags: number;
}

const HEX = /^[0-9A-Fa-f]{1,8}$/;

export function parseIfInet6(text: string): ParseResult<IfInet6Address> {
  const bad = new BadLines();
  const records: IfInet6Address[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const f = fields(line);
    if (f.length !== 6) {
      bad.add(`${f.length} fields, want 6`, line);
      continue;
    }
    const [addrHex, idxHex, plenHex, scopeHex, flagsHex, iface] = f as [string, string, string, string, string, string];
    const address = ipv6FromHex(addrHex);
    if (address === null) {
      bad.add(`bad address "${addrHex}"`, line);
      continue;
    }
    const nums = [idxHex, plenHex, scopeHex, flagsHex].map((t) => (HEX.test(t) ? parseInt(t, 16) : null));
    const [ifindex, prefixLen, scopeCode, flags] = nums;
    if (ifindex == null || prefixLen == null || scopeCode == null || flags == null || prefixLen > 128) {
      const i = nums.findIndex((n) => n === null);
      const tok = i >= 0 ? [idxHex, plenHex, scopeHex, flagsHex][i] : plenHex;
      const what = i >= 0 ? ['ifindex', 'prefix length', 'scope', 'flags'][i] : 'prefix length';
      bad.add(`bad ${what} "${tok}"`, line);
      continue;
    }
    records.push({ family: 6, address, prefixLen, scope: ipv6ScopeName(scopeCode), scopeCode, flags, iface, ifindex });
  }
  return result(records, bad);
}

export async function readIfInet6(roots: Roots): Promise<{ data: IfInet6Address[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/if_inet6');
  const parsed = outcome.ok ? cachedParse(outcome.path, outcome.text, parseIfInet6) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}
