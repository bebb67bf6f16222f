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
import { dict, fields, lines, parseSignedCounter } from './hexaddr.js';

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

export function parseSnmp(text: string): ParseResult<SnmpGroup> {
  const bad = new BadLines();
  const records: SnmpGroup[] = [];
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
  return result(records, bad);
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
