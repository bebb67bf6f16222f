/**
 * /proc/net/ipv6_route: every IPv6 FIB entry of every table (main, local, and the kernel's
 * `ip6_null_entry` reject route on lo), as `netstat -rn -6` / `route -6 -n` list them.
 *
 *   fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
 *   dest                             plen src                              splen next hop                         metric   refcnt   use      flags        dev
 *
 * Unlike /proc/net/tcp6, the addresses are the 16 bytes in network order. Every number is hex.
 * No header line.
 */
import type { Route, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, cachedParse, readSource, result, statusOf } from './source.js';
import { fields, ipv6FromHex, lines } from './hexaddr.js';
import { RTF } from './route.js';

/**
 * IPv6 flag letters in net-tools' order (lib/inet6_gr.c rprint_fib6, net-tools 2.10):
 * U ! G H D(default, from RA) A(addrconf) C(cache) a(allonlink) e(expires) m(modified) n(no next hop) f(flow).
 * The kernel's null entry (0x00200200) prints `!n`; a local host route (0x80200001) `Un`.
 */
export function ipv6RouteFlagLetters(flags: number): string {
  let s = '';
  if (flags & RTF.UP) s += 'U';
  if (flags & RTF.REJECT) s += '!';
  if (flags & RTF.GATEWAY) s += 'G';
  if (flags & RTF.HOST) s += 'H';
  if (flags & RTF.DEFAULT) s += 'D';
  if (flags & RTF.ADDRCONF) s += 'A';
  if (flags & RTF.CACHE) s += 'C';
  if (flags & RTF.ALLONLINK) s += 'a';
  if (flags & RTF.EXPIRES) s += 'e';
  if (flags & RTF.MODIFIED) s += 'm';
  if (flags & RTF.NONEXTHOP) s += 'n';
  if (flags & RTF.FLOW) s += 'f';
  return s;
}

const HEX8 = /^[0-9A-Fa-f]{1,8}$/;

function hexField(tok: string | undefined, maxLen: number): number | null {
  if (tok === undefined || tok.length > maxLen || !HEX8.test(tok)) return null;
  return parseInt(tok, 16);
}

export function parseIpv6Route(text: string): ParseResult<Route> {
  const bad = new BadLines();
  const records: Route[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const f = fields(line);
    if (f.length !== 10) {
      bad.add(`${f.length} fields, want 10`, line);
      continue;
    }
    const [destHex, plenHex, srcHex, splenHex, nhHex, metricHex, refHex, useHex, flagsHex, iface] = f as [
      string, string, string, string, string, string, string, string, string, string,
    ];
    const destination = ipv6FromHex(destHex);
    const source = ipv6FromHex(srcHex);
    const gateway = ipv6FromHex(nhHex);
    if (destination === null || source === null || gateway === null) {
      const [what, tok] = destination === null ? ['destination', destHex] : source === null ? ['source', srcHex] : ['next hop', nhHex];
      bad.add(`bad ${what} "${tok}"`, line);
      continue;
    }
    const prefixLen = hexField(plenHex, 2);
    const sourcePrefixLen = hexField(splenHex, 2);
    if (prefixLen === null || prefixLen > 128 || sourcePrefixLen === null || sourcePrefixLen > 128) {
      bad.add(`bad prefix length "${prefixLen === null || prefixLen > 128 ? plenHex : splenHex}"`, line);
      continue;
    }
    const metric = hexField(metricHex, 8);
    const refCount = hexField(refHex, 8);
    const use = hexField(useHex, 8);
    const flagsRaw = hexField(flagsHex, 8);
    if (metric === null || refCount === null || use === null || flagsRaw === null) {
      const [what, tok] =
        metric === null ? ['metric', metricHex] : refCount === null ? ['refcnt', refHex] : use === null ? ['use', useHex] : ['flags', flagsHex];
      bad.add(`bad ${what} "${tok}"`, line);
      continue;
    }
    records.push({
      family: 6,
      iface,
      destination,
      prefixLen,
      genmask: null,
      gateway,
      source,
      sourcePrefixLen,
      flags: ipv6RouteFlagLetters(flagsRaw),
      flagsRaw,
      // u32 as the kernel keeps it (netstat prints it with %d, so 0xffffffff shows there as -1).
      metric,
      refCount,
      use,
      mss: null,
      window: null,
      irtt: null,
      // The kernel's ip6_null_entry (::/0 reject on lo) is in every table dump; a reject route is not a way out.
      isDefault: destination === '::' && prefixLen === 0 && (flagsRaw & RTF.REJECT) === 0,
    });
  }
  return result(records, bad);
}

export async function readIpv6Route(roots: Roots): Promise<{ data: Route[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/ipv6_route');
  const parsed = outcome.ok ? cachedParse(outcome.path, outcome.text, parseIpv6Route) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}
