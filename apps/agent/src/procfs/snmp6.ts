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
import { LayoutCache, type SnmpGroup, snmpCounters } from './snmp.js';

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
const scan: CounterScan = { value: 0, end: 0 };
const layouts = new LayoutCache<Layout>((l) => l.prefixes[0]!, (text, l) => fastParse(text, l));

/** Forget the layouts seen (tests: the next parse of any text is the general one). */
export function forgetSnmp6Layouts(): void {
  layouts.forget();
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

/**
 * Keep the layout of a clean text (`lines`: each line's prefix, group and key, from the general
 * parse), if reading along it gives the very same records.
 */
function rememberLayout(text: string, records: SnmpGroup[], lines: readonly LineLayout[]): void {
  const groups = records.map((r) => r.group);
  const layout: Layout = { prefixes: lines.map((l) => l.prefix), group: lines.map((l) => groups.indexOf(l.group)), keys: lines.map((l) => l.key), groups };
  layouts.remember(text, records, layout);
}

export function parseSnmp6(text: string): ParseResult<SnmpGroup> {
  const records = layouts.read(text);
  if (records !== null) return result(records, new BadLines());
  const { layout, ...parsed } = parseSnmp6Lines(text);
  if (parsed.badLines === 0 && parsed.records.length > 0 && layout !== null) rememberLayout(text, parsed.records, layout);
  return parsed;
}

/** A line up to its value (the name and the blanks after it), with the name's group and key. */
interface LineLayout {
  prefix: string;
  group: string;
  key: string;
}

/**
 * The general parse: any text, every problem counted; also each line's layout (null when a line
 * does not end with its value: read this way every time).
 */
function parseSnmp6Lines(text: string): ParseResult<SnmpGroup> & { layout: LineLayout[] | null } {
  const bad = new BadLines();
  const byGroup = new Map<string, SnmpGroup>();
  let layout: LineLayout[] | null = [];
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
    if (layout !== null && line.endsWith(tok)) layout.push({ prefix: line.slice(0, line.length - tok.length), group, key });
    else layout = null;
  }
  return { ...result([...byGroup.values()], bad), layout };
}

export async function readSnmp6(roots: Roots): Promise<{ data: Record<string, Record<string, number>>; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/snmp6');
  const parsed = outcome.ok ? parseSnmp6(outcome.text) : null;
  return { data: snmpCounters(parsed?.records ?? []), status: statusOf(outcome, parsed, performance.now() - started) };
}
