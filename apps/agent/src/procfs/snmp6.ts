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
import { dict, fields, lines, parseSignedCounter } from './hexaddr.js';
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

export function parseSnmp6(text: string): ParseResult<SnmpGroup> {
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
