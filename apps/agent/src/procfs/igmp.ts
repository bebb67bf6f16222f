/**
 * Multicast group memberships (netstat -g): /proc/net/igmp (IPv4) and /proc/net/igmp6.
 *
 * igmp is a device line followed by indented group lines; the group is a `__be32` printed with
 * `%08X`, so on little-endian `010000E0` is 224.0.0.1:
 *
 *   Idx	Device    : Count Querier	Group    Users Timer	Reporter
 *   1	lo        :     1      V3
 *   				010000E0     1 0:00000000		0
 *
 * igmp6 is one line per group, the address in network byte order:
 *
 *   1    lo              ff020000000000000000000000000001     1 0000000C 0
 *   ifindex dev           group                            users flags timer
 */
import type { MulticastGroup, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, cachedParse, readSource, result, statusOf } from './source.js';
import { fields, ipv4FromHexLE, ipv6FromHex, lines, parseCounter } from './hexaddr.js';

export function parseIgmp(text: string): ParseResult<MulticastGroup> {
  const bad = new BadLines();
  const records: MulticastGroup[] = [];
  let device: { iface: string; ifindex: number } | null = null;
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const indented = line.startsWith('\t') || line.startsWith(' ');
    if (!indented) {
      if (line.startsWith('Idx')) continue;
      // `%d\t%-10s: %5d %7s`: names cannot hold ':' so the first one ends the name, even at 15 chars.
      device = null;
      const colon = line.indexOf(':');
      const head = fields(colon < 0 ? line : line.slice(0, colon));
      const tail = colon < 0 ? [] : fields(line.slice(colon + 1));
      const ifindex = parseCounter(head[0]);
      if (colon < 0 || head.length !== 2 || ifindex === null || tail.length !== 2 || parseCounter(tail[0]) === null) {
        bad.add(colon < 0 ? 'device line without ":"' : 'bad device line', line);
        continue;
      }
      device = { iface: head[1]!, ifindex };
      continue;
    }
    const f = fields(line);
    if (device === null) {
      bad.add('group line without a valid device line', line);
      continue;
    }
    if (f.length !== 4) {
      bad.add(`${f.length} fields, want 4`, line);
      continue;
    }
    const group = ipv4FromHexLE(f[0]!);
    const users = parseCounter(f[1]);
    if (group === null || users === null) {
      bad.add(group === null ? `bad group "${f[0]!}"` : `bad users "${f[1]!}"`, line);
      continue;
    }
    records.push({ family: 4, iface: device.iface, ifindex: device.ifindex, group, users });
  }
  return result(records, bad);
}

export function parseIgmp6(text: string): ParseResult<MulticastGroup> {
  const bad = new BadLines();
  const records: MulticastGroup[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const f = fields(line);
    if (f.length !== 6) {
      bad.add(`${f.length} fields, want 6`, line);
      continue;
    }
    const ifindex = parseCounter(f[0]);
    const group = ipv6FromHex(f[2]!);
    const users = parseCounter(f[3]);
    if (ifindex === null || group === null || users === null) {
      const [what, tok] = ifindex === null ? ['ifindex', f[0]] : group === null ? ['group', f[2]] : ['users', f[3]];
      bad.add(`bad ${what} "${tok ?? ''}"`, line);
      continue;
    }
    records.push({ family: 6, iface: f[1]!, ifindex, group, users });
  }
  return result(records, bad);
}

export async function readIgmp(roots: Roots): Promise<{ data: MulticastGroup[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/igmp');
  const parsed = outcome.ok ? cachedParse(outcome.path, outcome.text, parseIgmp) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}

export async function readIgmp6(roots: Roots): Promise<{ data: MulticastGroup[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/igmp6');
  const parsed = outcome.ok ? cachedParse(outcome.path, outcome.text, parseIgmp6) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}
