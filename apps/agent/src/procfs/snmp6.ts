/**
 * /proc/net/snmp6 (netstat -s -6): one `Name value` per line, the group fused into the name.
 *
 *   Ip6InReceives                   	1
 *   Icmp6InType133                  	4
 *   UdpLite6InDatagrams             	0
 *
 * The group is everything up to and including the first '6' (Ip6, Icmp6, Udp6, UdpLite6), the key
 * the rest, so the result merges with /proc/net/snmp's under the same shape. The per-interface
 * /proc/net/dev_snmp6/<if> files share the format (plus `ifIndex`) and are not read.
 */
import type { SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { dict, fields, lines, parseSignedCounter, scanCounterAt, type CounterScan } from './hexaddr.js';
import { type SnmpGroup, snmpCounters } from './snmp.js';

/** `Icmp6InMsgs` → ['Icmp6', 'InMsgs']; null when there is no letters-then-6 prefix or no key after it. */
export function splitSnmp6Name(name: string): [string, string] | null {
  const six = name.indexOf('6');
  if (six < 1 || six === name.length - 1) return null;
  for (let i = 0; i < six; i++) {
    const c = name.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!letter) return null;
  }
  return [name.slice(0, six + 1), name.slice(six + 1)];
}

/**
 * The lines of a text that parsed clean, up to their values (`Ip6InReceives` and the padding
 * after it), with the group and key of each. The kernel prints the same names in the same order on
 * every read: a text whose lines start with these prefixes (compared in place, not split) has its
 * values read straight into numbers. Kept for the last few layouts seen.
 */
interface Layout {
  prefixes: string[];
  group: number[];
  keys: string[];
  groups: string[];
}
const layouts: Layout[] = [];
const MAX_LAYOUTS = 8;
const scan: CounterScan = { value: 0, end: 0 };

/** Forget the layouts seen (tests: the next parse of any text is the general one). */
export function forgetSnmp6Layouts(): void {
  layouts.length = 0;
}

/** `text` read along `layout`, LF line ends; null at anything else (the general parse then reads it). */
function fastParse(text: string, layout: Layout): SnmpGroup[] | null {
  const records: SnmpGroup[] = layout.groups.map((group) => ({ group, counters: dict<number>() }));
  let pos = 0;
  for (let i = 0; i < layout.prefixes.length; i++) {
    const prefix = layout.prefixes[i]!;
    if (!text.startsWith(prefix, pos)) return null;
    pos += prefix.length;
    if (!scanCounterAt(text, pos, scan)) return null;
    pos = scan.end;
    const end = text.charCodeAt(pos);
    if (end === 10) pos++;
    else if (!Number.isNaN(end)) return null;
    records[layout.group[i]!]!.counters[layout.keys[i]!] = scan.value;
  }
  return pos === text.length ? records : null;
}

/** Keep the layout of a clean text, if reading along it gives the very same records. */
function rememberLayout(text: string, records: SnmpGroup[]): void {
  const prefixes: string[] = [];
  const group: number[] = [];
  const keys: string[] = [];
  const groups = records.map((r) => r.group);
  for (const line of lines(text)) {
    // the name, then the blanks up to the value (the general parse took this line as two fields)
    let end = 0;
    while (end < line.length && line.charCodeAt(end) !== 32 && line.charCodeAt(end) !== 9) end++;
    while (end < line.length && (line.charCodeAt(end) === 32 || line.charCodeAt(end) === 9)) end++;
    const split = splitSnmp6Name(line.slice(0, end).trimEnd());
    if (split === null || end === 0) return;
    prefixes.push(line.slice(0, end));
    group.push(groups.indexOf(split[0]));
    keys.push(split[1]);
  }
  const layout: Layout = { prefixes, group, keys, groups };
  const again = fastParse(text, layout);
  if (again === null || again.length !== records.length) return;
  for (let i = 0; i < records.length; i++) {
    const a = records[i]!.counters;
    const b = again[i]!.counters;
    if (Object.keys(a).length !== Object.keys(b).length) return;
    for (const k in a) if (!Object.is(a[k], b[k])) return;
  }
  layouts.unshift(layout);
  if (layouts.length > MAX_LAYOUTS) layouts.pop();
}

export function parseSnmp6(text: string): ParseResult<SnmpGroup> {
  for (const layout of layouts) {
    if (!text.startsWith(layout.prefixes[0]!)) continue;
    const records = fastParse(text, layout);
    if (records !== null) return result(records, new BadLines());
  }
  const parsed = parseSnmp6Lines(text);
  if (parsed.badLines === 0 && parsed.records.length > 0) rememberLayout(text, parsed.records);
  return parsed;
}

/** The general parse: any text, every problem counted. */
function parseSnmp6Lines(text: string): ParseResult<SnmpGroup> {
  const bad = new BadLines();
  const byGroup = new Map<string, SnmpGroup>();
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const f = fields(line);
    if (f.length !== 2) {
      bad.add(`${f.length} fields, want 2`, line);
      continue;
    }
    const [name, tok] = f as [string, string];
    const split = splitSnmp6Name(name);
    if (split === null) {
      bad.add(`no protocol prefix in "${name}"`, line);
      continue;
    }
    const v = parseSignedCounter(tok);
    if (v === null) {
      bad.add(`non-numeric value "${tok}"`, line);
      continue;
    }
    const [group, key] = split;
    let g = byGroup.get(group);
    if (g === undefined) {
      g = { group, counters: dict<number>() };
      byGroup.set(group, g);
    }
    g.counters[key] = v;
  }
  return result([...byGroup.values()], bad);
}

export async function readSnmp6(roots: Roots): Promise<{ data: Record<string, Record<string, number>>; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/snmp6');
  const parsed = outcome.ok ? parseSnmp6(outcome.text) : null;
  return { data: snmpCounters(parsed?.records ?? []), status: statusOf(outcome, parsed, performance.now() - started) };
}
