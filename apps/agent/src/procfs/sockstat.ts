/**
 * /proc/net/sockstat and /proc/net/sockstat6 (ss -s): one protocol per line, then name/value pairs.
 *
 *   sockets: used 11
 *   TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 340
 *   FRAG: inuse 0 memory 0
 *
 * sockstat6's groups are already TCP6, UDP6, UDPLITE6, RAW6, FRAG6, so both files merge into one
 * SockStat without renaming. `mem` is in pages, as the kernel counts it.
 */
import type { InetProto, SockStat, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { dict, fields, lines, parseSignedCounter } from './hexaddr.js';
import type { SnmpGroup } from './snmp.js';

export function parseSockstat(text: string): ParseResult<SnmpGroup> {
  const bad = new BadLines();
  const records: SnmpGroup[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const f = fields(line);
    const first = f[0];
    if (first === undefined || first.length < 2 || !first.endsWith(':')) {
      bad.add('no "PROTO:" prefix', line);
      continue;
    }
    const pairs = f.length - 1;
    if (pairs === 0 || pairs % 2 !== 0) {
      bad.add(`${pairs} tokens after the prefix, want name/value pairs`, line);
      continue;
    }
    const counters = dict<number>();
    let badTok: string | null = null;
    for (let i = 1; i < f.length; i += 2) {
      const name = f[i]!;
      const v = parseSignedCounter(f[i + 1]);
      if (v === null || parseSignedCounter(name) !== null) {
        badTok = v === null ? `non-numeric value "${f[i + 1] ?? ''}" for ${name}` : `numeric name "${name}"`;
        break;
      }
      counters[name] = v;
    }
    if (badTok !== null) {
      bad.add(badTok, line);
      continue;
    }
    records.push({ group: first.slice(0, -1), counters });
  }
  return result(records, bad);
}

/** Records → SockStat (`{ TCP: { inuse: 1, … } }`); a repeated group is merged. */
export function sockStatOf(records: readonly SnmpGroup[]): SockStat {
  const out = dict<Record<string, number>>();
  for (const r of records) out[r.group] = Object.assign(out[r.group] ?? dict<number>(), r.counters);
  return out;
}

export async function readSockstat(
  roots: Roots,
  file: 'sockstat' | 'sockstat6' = 'sockstat',
): Promise<{ data: SockStat; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, `net/${file}`);
  const parsed = outcome.ok ? parseSockstat(outcome.text) : null;
  return { data: sockStatOf(parsed?.records ?? []), status: statusOf(outcome, parsed, performance.now() - started) };
}

/** A read of /proc/net/sockstat or sockstat6, parsed (readSockstat). */
export type SockstatRead = Awaited<ReturnType<typeof readSockstat>>;

/**
 * The sockstat group whose `inuse` counts the sockets each table lists: the kernel adds a socket to
 * it when the socket goes into the protocol's hash table (a UDP socket when it is bound, a raw one
 * when it is created) and takes it off when it leaves, and /proc/net/<table> lists that hash table.
 * TCP is not here: its sockets come from one sock_diag dump, and TIME_WAIT ones are not in `inuse`.
 */
export const TABLE_COUNT_GROUP: Readonly<Partial<Record<InetProto, string>>> = {
  udp: 'UDP',
  udp6: 'UDP6',
  udplite: 'UDPLITE',
  udplite6: 'UDPLITE6',
  raw: 'RAW',
  raw6: 'RAW6',
};

/**
 * The tables that sockstat and sockstat6 (merged, as `sockStatOf` gives them) count no socket in:
 * reading them would list none. A group that is absent, or has no `inuse`, counts nothing here.
 * Pure.
 */
export function tablesCountedEmpty(stat: SockStat): Set<InetProto> {
  const out = new Set<InetProto>();
  for (const proto in TABLE_COUNT_GROUP) {
    const group = TABLE_COUNT_GROUP[proto as InetProto]!;
    if (stat[group]?.inuse === 0) out.add(proto as InetProto);
  }
  return out;
}
