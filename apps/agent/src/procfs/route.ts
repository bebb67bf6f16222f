/**
 * /proc/net/route: the IPv4 main routing table as `route -n` / `netstat -rn` print it.
 *
 *   Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
 *   eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
 *
 * Addresses are network-order `__be32` printed with `%08X` (reversed on little-endian), every
 * line is padded with spaces to 127 characters. Columns are found by header name, as net-tools'
 * proc_gen_fmt does, so a kernel that reorders or adds columns still parses.
 */
import type { Route, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, parseHex, cachedParse, readSource, result, statusOf } from './source.js';
import { fields, ipv4FromHexLE, lines, parseCounter, parseSignedCounter, prefixLenFromMaskLE } from './hexaddr.js';

/** Route flag bits (include/uapi/linux/route.h, net-tools lib/net-support.h). */
export const RTF = {
  UP: 0x0001,
  GATEWAY: 0x0002,
  HOST: 0x0004,
  REINSTATE: 0x0008,
  DYNAMIC: 0x0010,
  MODIFIED: 0x0020,
  MTU: 0x0040,
  WINDOW: 0x0080,
  IRTT: 0x0100,
  REJECT: 0x0200,
  DEFAULT: 0x00010000,
  ALLONLINK: 0x00020000,
  ADDRCONF: 0x00040000,
  NONEXTHOP: 0x00200000,
  EXPIRES: 0x00400000,
  CACHE: 0x01000000,
  FLOW: 0x02000000,
  POLICY: 0x04000000,
  LOCAL: 0x80000000,
} as const;

/**
 * IPv4 flag letters in net-tools' order (lib/inet_gr.c rprint_fib): U G, then a reject route
 * *replaces* what came before with `!`, then H R D M. The IPv6-only bits never appear in
 * /proc/net/route and are left out.
 */
export function routeFlagLetters(flags: number): string {
  let s = '';
  if (flags & RTF.UP) s += 'U';
  if (flags & RTF.GATEWAY) s += 'G';
  if (flags & RTF.REJECT) s = '!';
  if (flags & RTF.HOST) s += 'H';
  if (flags & RTF.REINSTATE) s += 'R';
  if (flags & RTF.DYNAMIC) s += 'D';
  if (flags & RTF.MODIFIED) s += 'M';
  return s;
}

const REQUIRED = ['Iface', 'Destination', 'Gateway', 'Flags', 'RefCnt', 'Use', 'Metric', 'Mask'] as const;
const OPTIONAL = ['MTU', 'Window', 'IRTT'] as const;
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

export function parseRoute(text: string): ParseResult<Route> {
  const bad = new BadLines();
  const records: Route[] = [];
  const all = lines(text);
  let i = 0;
  while (i < all.length && all[i]!.trim() === '') i++;
  const header = all[i];
  if (header === undefined) return result(records, bad, 'empty file: no header line');
  const names = fields(header);
  const col = new Map<Column, number>();
  names.forEach((n, idx) => col.set(n as Column, idx));
  const missing = REQUIRED.filter((c) => !col.has(c));
  if (missing.length > 0) {
    return result(records, bad, `unrecognised header (no ${missing.join(', ')}): ${header.trim().slice(0, 120)}`);
  }
  const at = (f: string[], c: Column): string | undefined => {
    const idx = col.get(c);
    return idx === undefined ? undefined : f[idx];
  };
  const minFields = Math.max(...REQUIRED.map((c) => col.get(c)!)) + 1;

  for (i++; i < all.length; i++) {
    const line = all[i]!;
    if (line.trim() === '') continue;
    const f = fields(line);
    if (f.length < minFields) {
      bad.add(`${f.length} fields, want ${minFields}`, line);
      continue;
    }
    const iface = at(f, 'Iface')!;
    const destHex = at(f, 'Destination')!;
    const gwHex = at(f, 'Gateway')!;
    const maskHex = at(f, 'Mask')!;
    const destination = ipv4FromHexLE(destHex);
    const gateway = ipv4FromHexLE(gwHex);
    const genmask = ipv4FromHexLE(maskHex);
    if (destination === null) {
      bad.add(`bad destination "${destHex}"`, line);
      continue;
    }
    if (gateway === null) {
      bad.add(`bad gateway "${gwHex}"`, line);
      continue;
    }
    if (genmask === null) {
      bad.add(`bad mask "${maskHex}"`, line);
      continue;
    }
    const prefixLen = prefixLenFromMaskLE(parseInt(maskHex, 16));
    if (prefixLen === null) {
      bad.add(`non-contiguous mask "${maskHex}"`, line);
      continue;
    }
    const flagsTok = at(f, 'Flags');
    const flagsRaw = parseHex(flagsTok);
    if (flagsRaw === null || (flagsTok?.length ?? 0) > 8) {
      bad.add(`bad flags "${flagsTok ?? ''}"`, line);
      continue;
    }
    const refTok = at(f, 'RefCnt');
    const useTok = at(f, 'Use');
    const metricTok = at(f, 'Metric');
    const refCount = parseSignedCounter(refTok);
    const use = parseCounter(useTok);
    const metric = parseSignedCounter(metricTok);
    if (refCount === null || use === null || metric === null) {
      const [name, tok] = refCount === null ? ['refcnt', refTok] : use === null ? ['use', useTok] : ['metric', metricTok];
      bad.add(`bad ${name} "${tok ?? ''}"`, line);
      continue;
    }
    // MTU/Window/IRTT: present on every kernel since 2.2, but optional in the format; absent → null.
    const opt: Record<(typeof OPTIONAL)[number], number | null> = { MTU: null, Window: null, IRTT: null };
    let optBad: string | null = null;
    for (const c of OPTIONAL) {
      const tok = at(f, c);
      if (tok === undefined) continue;
      const v = parseCounter(tok);
      if (v === null) optBad = `bad ${c.toLowerCase()} "${tok}"`;
      opt[c] = v;
    }
    if (optBad !== null) {
      bad.add(optBad, line);
      continue;
    }
    records.push({
      family: 4,
      iface,
      destination,
      prefixLen,
      genmask,
      gateway,
      source: null,
      sourcePrefixLen: null,
      flags: routeFlagLetters(flagsRaw),
      flagsRaw,
      metric,
      refCount,
      use,
      mss: opt.MTU,
      window: opt.Window,
      irtt: opt.IRTT,
      // `unreachable default` (flag !) matches everything but leads nowhere: not a default route.
      isDefault: destination === '0.0.0.0' && prefixLen === 0 && (flagsRaw & RTF.REJECT) === 0,
    });
  }
  return result(records, bad);
}

export async function readRoute(roots: Roots): Promise<{ data: Route[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/route');
  const parsed = outcome.ok ? cachedParse(outcome.path, outcome.text, parseRoute) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}
