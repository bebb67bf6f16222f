/**
 * Everything in a snapshot but the sockets: routes, interfaces (with rates), protocol statistics
 * (with rates), sockstat, multicast, conntrack, kernel settings, host. Each source is read on its
 * own and reports its own status; a failure in one leaves the others whole.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import type {
  ConntrackSummary,
  HostInfo,
  InterfaceAddress,
  InterfaceCounters,
  InterfaceRates,
  KernelSettings,
  MulticastGroup,
  NetInterface,
  ProtocolStats,
  Route,
  SockStat,
  SourceName,
  SourceStatus,
} from '@netscope/shared';
import type { Roots } from '../procfs/source.js';
import { readRoute } from '../procfs/route.js';
import { readIpv6Route } from '../procfs/ipv6_route.js';
import { DEV_COLUMNS, readDev } from '../procfs/dev.js';
import { readSysfsNet } from '../procfs/sysfs_net.js';
import { readIfInet6 } from '../procfs/if_inet6.js';
import { readSnmp } from '../procfs/snmp.js';
import { readSnmp6 } from '../procfs/snmp6.js';
import { readSockstat, type SockstatRead } from '../procfs/sockstat.js';
import { readIgmp, readIgmp6 } from '../procfs/igmp.js';
import { readConntrack } from '../procfs/conntrack.js';
import { readKernelSettings } from '../procfs/sysctl.js';
import { readHost } from '../procfs/host.js';
import { groupRates, rate } from './rates.js';

export interface AggregateState {
  prevTime: number | null;
  prevIfCounters: Map<string, InterfaceCounters>;
  prevStats: Record<string, Record<string, number>> | undefined;
  /** The last read of /sys/class/net, for the interfaces of /proc/net/dev then (their names, one per line). */
  sysfs?: { names: string; read: Awaited<ReturnType<typeof readSysfsNet>>; kept: SourceStatus };
}

/** What the sysfs status says on a tick that took the last read (collectAggregates' `linksUnchanged`). */
export const SYSFS_KEPT_MESSAGE = 'not read this tick: no interface or address change since the last read (rtnetlink notices)';

export interface Aggregates {
  host: HostInfo;
  routes: Route[];
  interfaces: NetInterface[];
  stats: ProtocolStats;
  sockstat: SockStat;
  multicast: MulticastGroup[];
  conntrack: ConntrackSummary | null;
  kernel: KernelSettings;
  sources: Partial<Record<SourceName, SourceStatus>>;
  state: AggregateState;
}

function interfaceRates(cur: InterfaceCounters, prev: InterfaceCounters | undefined, dtSec: number): InterfaceRates {
  const out = {} as Record<string, number | null>;
  for (const key of DEV_COLUMNS) out[`${key}PerSec`] = rate(cur[key], prev?.[key], dtSec);
  return out as InterfaceRates;
}

/** Addresses from getifaddrs (live only): IPv4 is not in /proc per interface. */
function liveAddresses(ifaddrs: NodeJS.Dict<NetworkInterfaceInfo[]> | null, name: string): InterfaceAddress[] {
  const list = ifaddrs?.[name] ?? [];
  return list.map((a) => ({
    family: a.family === 'IPv4' ? 4 : 6,
    address: a.address.replace(/%.*$/, ''),
    prefixLen: Number((a.cidr ?? '/0').split('/')[1] ?? 0),
    scope: null,
  }));
}

export async function collectAggregates(
  roots: Roots,
  now: number,
  state: AggregateState,
  ifaddrs: NodeJS.Dict<NetworkInterfaceInfo[]> | null,
  /**
   * The kernel sent no notice of an interface or address change since the last read of
   * /sys/class/net (netlink/link-watch.ts): its attributes are taken from that read, as long as
   * /proc/net/dev lists the same interfaces.
   */
  linksUnchanged = false,
  /** sockstat and sockstat6 as the collector read them earlier this tick (to skip empty tables), else read here. */
  sockstats: readonly [SockstatRead, SockstatRead] | null = null,
): Promise<Aggregates> {
  const [route4, route6, dev, inet6, snmp, netstat, snmp6, sockstat, sockstat6, igmp, igmp6, conntrack, kernel, host] =
    await Promise.all([
      readRoute(roots),
      readIpv6Route(roots),
      readDev(roots),
      readIfInet6(roots),
      readSnmp(roots, 'snmp'),
      readSnmp(roots, 'netstat'),
      readSnmp6(roots),
      sockstats?.[0] ?? readSockstat(roots, 'sockstat'),
      sockstats?.[1] ?? readSockstat(roots, 'sockstat6'),
      readIgmp(roots),
      readIgmp6(roots),
      readConntrack(roots),
      readKernelSettings(roots),
      readHost(roots),
    ]);
  const devNames = dev.data.map((d) => d.name);
  const namesKey = devNames.join('\n');
  let sysfsState = linksUnchanged && state.sysfs?.names === namesKey ? state.sysfs : undefined;
  let sysfs: Awaited<ReturnType<typeof readSysfsNet>>;
  if (sysfsState !== undefined) {
    sysfs = { data: sysfsState.read.data, status: sysfsState.kept };
  } else {
    sysfs = await readSysfsNet(roots, devNames);
    sysfsState = { names: namesKey, read: sysfs, kept: { ...sysfs.status, message: sysfs.status.message ?? SYSFS_KEPT_MESSAGE } };
  }

  const dtSec = state.prevTime === null ? 0 : (now - state.prevTime) / 1000;
  const sysByName = new Map(sysfs.data.map((s) => [s.name, s]));
  const prevIfCounters = new Map<string, InterfaceCounters>();
  const interfaces: NetInterface[] = dev.data.map((d) => {
    const sys = sysByName.get(d.name);
    prevIfCounters.set(d.name, d.counters);
    const v6 = inet6.data
      .filter((a) => a.iface === d.name)
      .map((a) => ({ family: 6 as const, address: a.address, prefixLen: a.prefixLen, scope: a.scope }));
    const live = liveAddresses(ifaddrs, d.name);
    // getifaddrs has IPv4 (and IPv6 without scope names); if_inet6 has IPv6 with scopes: prefer it for v6.
    const addresses = [...live.filter((a) => a.family === 4 || v6.length === 0), ...v6];
    return {
      name: d.name,
      mtu: sys?.mtu ?? null,
      flags: sys?.flags ?? '',
      flagsRaw: sys?.flagsRaw ?? null,
      operstate: sys?.operstate ?? null,
      speedMbps: sys?.speedMbps ?? null,
      mac: sys?.mac ?? null,
      addresses,
      counters: d.counters,
      rates: interfaceRates(d.counters, state.prevIfCounters.get(d.name), dtSec),
    };
  });

  const counters: Record<string, Record<string, number>> = { ...snmp.data, ...netstat.data, ...snmp6.data };
  const stats: ProtocolStats = { counters, rates: groupRates(counters, state.prevStats, dtSec) };

  const sources: Partial<Record<SourceName, SourceStatus>> = {
    route: route4.status,
    ipv6_route: route6.status,
    dev: dev.status,
    sysfs: sysfs.status,
    if_inet6: inet6.status,
    snmp: snmp.status,
    netstat: netstat.status,
    snmp6: snmp6.status,
    sockstat: sockstat.status,
    sockstat6: sockstat6.status,
    igmp: igmp.status,
    igmp6: igmp6.status,
    nf_conntrack: conntrack.status,
    sysctl: kernel.status,
  };

  return {
    host: host.data,
    routes: [...route4.data, ...route6.data],
    interfaces,
    stats,
    sockstat: { ...sockstat.data, ...sockstat6.data },
    multicast: [...igmp.data, ...igmp6.data],
    conntrack: conntrack.data,
    kernel: kernel.data,
    sources,
    state: { prevTime: now, prevIfCounters, prevStats: counters, sysfs: sysfsState },
  };
}
