/**
 * /proc/net/snmp and /proc/net/netstat (netstat -s): pairs of lines, names then values.
 *
 *   Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens ...
 *   Tcp: 1 200 120000 -1 65 ...
 *
 * A value line must follow its header with the same group and the same count. Whatever breaks
 * that (counts differ, a value is not a number, values without a header, a header without
 * values) is one bad line and the other groups are kept. Values may be negative (Tcp MaxConn -1)
 * and are u64 in the kernel: exact up to 2^53.
 */
import type { SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { dict, fields, lines, parseSignedCounter, scanCounterAt, type CounterScan } from './hexaddr.js';

export interface SnmpGroup {
  /** Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite, TcpExt, IpExt, MPTcpExt … */
  group: string;
  counters: Record<string, number>;
}

/** Group name of a line (`Tcp:` → Tcp), null when the first token is not `Name:`. */
function groupOf(tokens: string[]): string | null {
  const first = tokens[0];
  if (first === undefined || first.length < 2 || !first.endsWith(':')) return null;
  return first.slice(0, -1);
}

/**
 * The header lines of a text that parsed clean, in order, with their groups and names. The kernel
 * prints the same headers on every read: a text that has exactly these header lines (compared in
 * place, not split) has its value lines read straight into numbers (`fastParse`). Kept for the last
 * few layouts seen (/proc/net/snmp and /proc/net/netstat, each per network namespace read).
 */
interface Layout {
  headers: string[];
  groups: string[];
  names: string[][];
}

/**
 * The last few layouts of clean texts (snmp.ts's and snmp6.ts's), newest first, and the reading of
 * a text along them. `first` is the start every text of a layout has (a cheap test before `read`).
 */
export class LayoutCache<L> {
  private readonly layouts: L[] = [];
  constructor(
    private readonly first: (layout: L) => string,
    private readonly readAlong: (text: string, layout: L) => SnmpGroup[] | null,
    private readonly max = 8,
  ) {}

  /** `text` read along the first layout that fits it; null when none does. */
  read(text: string): SnmpGroup[] | null {
    for (const layout of this.layouts) {
      if (!text.startsWith(this.first(layout))) continue;
      const records = this.readAlong(text, layout);
      if (records !== null) return records;
    }
    return null;
  }

  /** Keep `layout` of a clean `text` if reading along it gives the very `records` the general parse gave. */
  remember(text: string, records: readonly SnmpGroup[], layout: L): void {
    const again = this.readAlong(text, layout);
    if (again === null || !sameGroups(records, again)) return;
    this.layouts.unshift(layout);
    if (this.layouts.length > this.max) this.layouts.pop();
  }

  /** Forget the layouts seen (tests: the next parse of any text is the general one). */
  forget(): void {
    this.layouts.length = 0;
  }
}

const layouts = new LayoutCache<Layout>((l) => l.headers[0]!, (text, l) => fastParse(text, l));

/** Forget the layouts seen (tests: the next parse of any text is the general one). */
export function forgetSnmpLayouts(): void {
  layouts.forget();
}
const scan: CounterScan = { value: 0, end: 0 };

/**
 * `text` read along `layout`: header line, `Group:` value line, … to the end, LF line ends. null
 * at anything else (a header that moved, a value that is not a counter, a count that differs, a
 * blank line, CRLF): the general parse then reads it and says what is wrong.
 */
function fastParse(text: string, layout: Layout): SnmpGroup[] | null {
  const records: SnmpGroup[] = [];
  let pos = 0;
  for (let g = 0; g < layout.headers.length; g++) {
    const header = layout.headers[g]!;
    if (!text.startsWith(header, pos) || text.charCodeAt(pos + header.length) !== 10) return null;
    pos += header.length + 1;
    const group = layout.groups[g]!;
    const names = layout.names[g]!;
    if (!text.startsWith(group, pos) || text.charCodeAt(pos + group.length) !== 58) return null;
    pos += group.length + 1;
    const counters = dict<number>();
    let n = 0;
    for (;;) {
      let c = text.charCodeAt(pos);
      if (c !== 32 && c !== 9) break;
      while (c === 32 || c === 9) c = text.charCodeAt(++pos);
      if (c === 10 || Number.isNaN(c)) break;
      if (n === names.length || !scanCounterAt(text, pos, scan)) return null;
      counters[names[n++]!] = scan.value;
      pos = scan.end;
    }
    if (n !== names.length) return null;
    const end = text.charCodeAt(pos);
    if (end === 10) pos++;
    else if (!Number.isNaN(end)) return null;
    records.push({ group, counters });
  }
  return pos === text.length ? records : null;
}

export function parseSnmp(text: string): ParseResult<SnmpGroup> {
  const records = layouts.read(text);
  if (records !== null) return result(records, new BadLines());
  const { headers, ...parsed } = parseSnmpLines(text);
  if (parsed.badLines === 0 && parsed.records.length > 0) rememberLayout(text, parsed.records, headers);
  return parsed;
}

/** Keep the layout of a clean text, if reading along it gives the very same records. */
function rememberLayout(text: string, records: SnmpGroup[], headers: string[]): void {
  const layout: Layout = { headers, groups: records.map((r) => r.group), names: records.map((r) => Object.keys(r.counters)) };
  // keys of a dict come back in insertion order, which is the header's, unless a name repeats
  if (layout.names.some((names, i) => names.length !== fields(headers[i]!).length - 1)) return;
  layouts.remember(text, records, layout);
}

/** The same groups in the same order with the same counters (a layout's read against the general parse's). */
function sameGroups(a: readonly SnmpGroup[], b: readonly SnmpGroup[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.group !== y.group || Object.keys(x.counters).length !== Object.keys(y.counters).length) return false;
    for (const k in x.counters) if (!Object.is(x.counters[k], y.counters[k])) return false;
  }
  return true;
}

/** The general parse: any text, every problem counted; also the header line of each record. */
function parseSnmpLines(text: string): ParseResult<SnmpGroup> & { headers: string[] } {
  const bad = new BadLines();
  const records: SnmpGroup[] = [];
  const headers: string[] = [];
  let pending: { group: string; names: string[]; line: string } | null = null;

  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const tokens = fields(line);
    const group = groupOf(tokens);
    if (group === null) {
      bad.add('no "Group:" prefix', line);
      continue;
    }
    const rest = tokens.slice(1);
    if (pending !== null && pending.group === group) {
      // The value line of the pending header.
      const header = pending;
      pending = null;
      if (rest.length !== header.names.length) {
        bad.add(`${header.names.length} names but ${rest.length} values`, line);
        continue;
      }
      const counters = dict<number>();
      let badTok: string | null = null;
      for (let i = 0; i < rest.length; i++) {
        const v = parseSignedCounter(rest[i]);
        if (v === null) {
          badTok = `non-numeric value "${rest[i] ?? ''}" for ${group}.${header.names[i] ?? '?'}`;
          break;
        }
        counters[header.names[i]!] = v;
      }
      if (badTok !== null) {
        bad.add(badTok, line);
        continue;
      }
      records.push({ group, counters });
      headers.push(header.line);
      continue;
    }
    if (pending !== null) {
      bad.add(`header without a value line`, pending.line);
      pending = null;
    }
    const numeric = rest.length > 0 && rest.every((t) => parseSignedCounter(t) !== null);
    if (numeric) {
      bad.add('value line without a header', line);
      continue;
    }
    pending = { group, names: rest, line };
  }
  if (pending !== null) bad.add('header without a value line', pending.line);
  return { ...result(records, bad), headers };
}

/**
 * Records → `{ Tcp: { RtoMin: 200, … }, … }`; a group seen twice is merged, later values win. A
 * group seen once is its record's own object (copying ~400 counters into new dictionaries was
 * most of the parse, every tick); a merge makes a new one and leaves the records as they were.
 */
export function snmpCounters(records: readonly SnmpGroup[]): Record<string, Record<string, number>> {
  const out = dict<Record<string, number>>();
  for (const r of records) {
    const had = out[r.group];
    out[r.group] = had === undefined ? r.counters : Object.assign(dict<number>(), had, r.counters);
  }
  return out;
}

/** Read /proc/net/snmp (Ip, Icmp, Tcp, Udp …) or /proc/net/netstat (TcpExt, IpExt, MPTcpExt). */
export async function readSnmp(
  roots: Roots,
  file: 'snmp' | 'netstat' = 'snmp',
): Promise<{ data: Record<string, Record<string, number>>; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, `net/${file}`);
  const parsed = outcome.ok ? parseSnmp(outcome.text) : null;
  return { data: snmpCounters(parsed?.records ?? []), status: statusOf(outcome, parsed, performance.now() - started) };
}
