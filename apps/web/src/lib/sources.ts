/** Source health (snapshot.sources): which views can trust their data. */
import type { Snapshot, SourceName, SourceStatus } from '@netscope/shared';

export interface SourceProblem {
  name: SourceName;
  status: SourceStatus;
}

/** Sources among `names` that are not ok (or not reported at all: `missing` with no status). */
export function sourceProblems(snapshot: Pick<Snapshot, 'sources'>, names: readonly SourceName[]): SourceProblem[] {
  const out: SourceProblem[] = [];
  for (const name of names) {
    const status = snapshot.sources[name];
    if (status && status.state !== 'ok') out.push({ name, status });
  }
  return out;
}

/** True when every named source that the agent reported is unusable (missing/unreadable). */
export function allUnavailable(snapshot: Pick<Snapshot, 'sources'>, names: readonly SourceName[]): boolean {
  let reported = 0;
  for (const name of names) {
    const status = snapshot.sources[name];
    if (!status) continue;
    reported++;
    if (status.state === 'ok' || status.state === 'malformed') return false;
  }
  return reported > 0;
}

export const SOCKET_SOURCES: readonly SourceName[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'unix'];
export const ROUTE_SOURCES: readonly SourceName[] = ['route', 'ipv6_route'];
export const IFACE_SOURCES: readonly SourceName[] = ['dev', 'sysfs', 'if_inet6', 'addresses'];
export const STATS_SOURCES: readonly SourceName[] = ['snmp', 'netstat', 'snmp6', 'sockstat', 'sockstat6'];
export const MULTICAST_SOURCES: readonly SourceName[] = ['igmp', 'igmp6'];
export const OWNER_SOURCES: readonly SourceName[] = ['ownership', 'passwd'];
