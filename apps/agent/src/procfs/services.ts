/**
 * /etc/services: port numbers to names, as netstat and ss print them without -n.
 *
 *   http		80/tcp		www		# WorldWideWeb HTTP
 *
 * Key `tcp/80` → `http`: the first name for a port wins (getservbyport's answer). The other way,
 * a name or alias to its ports (getservbyname's), serves port filters such as `https` or `www`. A
 * machine without the file (minimal containers) reports `missing` and the page shows numbers.
 */
import type { SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { fields, lines } from './hexaddr.js';

export interface ServiceEntry {
  name: string;
  port: number;
  /** tcp, udp, sctp, ddp … as written. */
  proto: string;
  /** The names after the port (`www` for http), as written. */
  aliases: string[];
}

export function parseServices(text: string): ParseResult<ServiceEntry> {
  const bad = new BadLines();
  const records: ServiceEntry[] = [];
  for (const line of lines(text)) {
    const hash = line.indexOf('#');
    const body = hash < 0 ? line : line.slice(0, hash);
    const f = fields(body);
    if (f.length === 0) continue;
    if (f.length < 2) {
      bad.add('no port/protocol', line);
      continue;
    }
    const name = f[0]!;
    const pp = f[1]!;
    const slash = pp.indexOf('/');
    const portTok = slash < 0 ? pp : pp.slice(0, slash);
    const proto = slash < 0 ? '' : pp.slice(slash + 1).toLowerCase();
    if (slash < 0 || proto === '' || !/^[a-z0-9-]+$/.test(proto)) {
      bad.add(`bad port/protocol "${pp}"`, line);
      continue;
    }
    if (!/^\d{1,5}$/.test(portTok) || Number(portTok) > 65535) {
      bad.add(`bad port "${portTok}"`, line);
      continue;
    }
    records.push({ name, port: Number(portTok), proto, aliases: f.slice(2) });
  }
  return result(records, bad);
}

/** Entries → Map `proto/port` → name, first name winning. */
export function servicesMap(records: readonly ServiceEntry[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of records) {
    const key = `${r.proto}/${r.port}`;
    if (!map.has(key)) map.set(key, r.name);
  }
  return map;
}

/**
 * Entries → Map name or alias (lower case) → its TCP and UDP ports, ascending (`domain` → [53]).
 * Other protocols (sctp, ddp) are left out: no socket the agent shows looks them up.
 */
export function servicePorts(records: readonly ServiceEntry[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const r of records) {
    if (r.proto !== 'tcp' && r.proto !== 'udp') continue;
    for (const name of [r.name, ...r.aliases]) {
      const key = name.toLowerCase();
      const ports = map.get(key);
      if (ports === undefined) map.set(key, [r.port]);
      else if (!ports.includes(r.port)) ports.push(r.port);
    }
  }
  for (const ports of map.values()) ports.sort((a, b) => a - b);
  return map;
}

/** Which /etc/services protocol a socket protocol looks up: tcp6 → tcp, udp6/udplite/udplite6 → udp. */
export function servicesProto(proto: string): 'tcp' | 'udp' | null {
  switch (proto) {
    case 'tcp':
    case 'tcp6':
      return 'tcp';
    case 'udp':
    case 'udp6':
    case 'udplite':
    case 'udplite6':
      return 'udp';
    default:
      return null;
  }
}

/** Service name for a socket's port, undefined when it has none (or the protocol has no ports, like raw). */
export function serviceName(map: ReadonlyMap<string, string>, proto: string, port: number): string | undefined {
  const p = servicesProto(proto);
  if (p === null || port === 0) return undefined;
  return map.get(`${p}/${port}`);
}

/** `ports` is null when the file could not be read: then no name can be judged unknown. */
export async function readServices(
  roots: Roots,
): Promise<{ data: Map<string, string>; ports: Map<string, number[]> | null; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.etc, 'services');
  const parsed = outcome.ok ? parseServices(outcome.text) : null;
  return {
    data: servicesMap(parsed?.records ?? []),
    ports: parsed === null ? null : servicePorts(parsed.records),
    status: statusOf(outcome, parsed, performance.now() - started),
  };
}
