/** netstat -s as rows: kernel counter groups in netstat's order, each counter with its rate. */
import type { ProtocolStats } from '@netscope/shared';

export interface StatRow {
  group: string;
  name: string;
  value: number;
  /** Per second; null for gauges and on the first tick. */
  rate: number | null;
  error: boolean;
}

export interface StatGroup {
  group: string;
  /** Protocol heading the group belongs to (IP, ICMP, TCP, UDP, IPv6…). */
  protocol: string;
  rows: StatRow[];
  errorsNonZero: number;
}

const ORDER = ['Ip', 'IpExt', 'Icmp', 'IcmpMsg', 'Tcp', 'TcpExt', 'MPTcpExt', 'Udp', 'UdpLite', 'Ip6', 'Icmp6', 'Udp6', 'UdpLite6'];
const PROTOCOL: Record<string, string> = {
  Ip: 'IP',
  IpExt: 'IP',
  Icmp: 'ICMP',
  IcmpMsg: 'ICMP',
  Tcp: 'TCP',
  TcpExt: 'TCP',
  MPTcpExt: 'MPTCP',
  Udp: 'UDP',
  UdpLite: 'UDP',
  Ip6: 'IPv6',
  Icmp6: 'ICMPv6',
  Udp6: 'UDPv6',
  UdpLite6: 'UDPv6',
};

/**
 * Counters that count trouble: errors, drops, failures, overflows, retransmissions, resets on
 * timeout… (TcpExt.ListenOverflows, Tcp.RetransSegs, Udp.RcvbufErrors, Ip.InDiscards).
 */
const ERROR_RE = /err|drop|fail|overflow|discard|retrans|lost|timeout|abort|prune|collapse|bad|noports|csum|unknownproto|reasmfails|toomany|memorypressure|syncookiesfailed|noroutes|truncated|backlogdrop|ofodrop|listen(?:drops|overflows)/i;

export function isErrorCounter(group: string, name: string): boolean {
  if (group === 'IcmpMsg') return false;
  // Configuration values and gauges that match the pattern by accident.
  if (/^(RtoAlgorithm|RtoMin|RtoMax|MaxConn|Forwarding|DefaultTTL|CurrEstab)$/.test(name)) return false;
  return ERROR_RE.test(name);
}

export function statGroups(stats: ProtocolStats): StatGroup[] {
  const names = Object.keys(stats.counters);
  names.sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  return names.map((group) => {
    const counters = stats.counters[group] ?? {};
    const rates = stats.rates[group] ?? {};
    const rows: StatRow[] = Object.entries(counters).map(([name, value]) => ({
      group,
      name,
      value,
      rate: rates[name] ?? null,
      error: isErrorCounter(group, name),
    }));
    return { group, protocol: PROTOCOL[group] ?? group, rows, errorsNonZero: rows.filter((r) => r.error && r.value > 0).length };
  });
}

/** Case-insensitive match on `Group.Name`; `!` alone keeps non-zero error counters only. */
export function filterStatGroups(groups: StatGroup[], query: string, opts: { nonZero?: boolean; errorsOnly?: boolean } = {}): StatGroup[] {
  const q = query.trim().toLowerCase();
  const out: StatGroup[] = [];
  for (const g of groups) {
    const rows = g.rows.filter(
      (r) =>
        (!q || `${r.group}.${r.name}`.toLowerCase().includes(q) || g.protocol.toLowerCase() === q) &&
        (!opts.nonZero || r.value !== 0) &&
        (!opts.errorsOnly || (r.error && r.value > 0)),
    );
    if (rows.length > 0) out.push({ ...g, rows });
  }
  return out;
}
