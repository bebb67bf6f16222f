/**
 * The snapshot schema: what the agent knows about the machine's network state at one tick.
 * Used by the agent (producer), the web app (consumer) and the tests.
 *
 * Conventions: names carry units (`remainingMs`, `rxBytesPerSec`); absent is `null`, never 0;
 * states are string unions with the kernel's numeric code kept beside them.
 */

import type { Alert, WatchedServiceStatus } from './alerts.js';

export const SCHEMA_VERSION = 1 as const;

/** /proc/net files that hold inet sockets, one protocol each. */
export type InetProto = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'udplite' | 'udplite6' | 'raw' | 'raw6';
export type SocketProto = InetProto | 'unix';

/** TCP states in netstat's spelling. Kernel codes 1..11 (include/net/tcp_states.h). */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV'
  | 'UNKNOWN';

export const TCP_STATES: readonly TcpState[] = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'UNKNOWN',
];

/** Kernel state code (hex `st` column) to netstat's name. */
export const TCP_STATE_BY_CODE: Readonly<Record<number, TcpState>> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

/** netstat -o timer kinds; kernel `tr` codes 0 off, 1 on (retransmit), 2 keepalive, 3 timewait, 4 probe (zero window). */
export type TimerKind = 'off' | 'on' | 'keepalive' | 'timewait' | 'probe' | 'unknown';

export interface SocketTimer {
  kind: TimerKind;
  /** Kernel `tr` code. */
  code: number;
  /**
   * When the timer fires, as epoch ms estimated from the jiffies countdown at collection.
   * Remaining time = `expiresAt - snapshot.time` (netstat -o shows it in seconds).
   * null when the timer is off. The agent keeps the previous value while a new estimate is within
   * 1 s of it, so an idle timer does not churn the stream.
   */
  expiresAt: number | null;
  /** `retrnsmt` column: unrecovered RTO timeouts (TCP) — netstat -o's middle figure. */
  retransmits: number;
  /** Probes sent without answer (keepalive/zero-window), the `timeout` column: netstat -o's last figure. */
  probes: number;
}

interface SocketBase {
  /** Stable key while the socket lives: proto + tuple (+ inode when non-zero); `unix#<inode>` for unix. */
  id: string;
  inode: number;
  /** Owning process (lowest pid holding an fd to the inode), null when it could not be seen. */
  pid: number | null;
  /** Process name as `ss -p` shows it (/proc/<pid>/comm). */
  program: string | null;
  /** The fd number in the owning process. */
  fd: number | null;
  /** Other processes sharing the socket (fork, SO_REUSEPORT groups share via fork), sorted. Absent when none. */
  otherPids?: number[];
}

export interface InetSocket extends SocketBase {
  proto: InetProto;
  family: 4 | 6;
  /** IPv4 dotted quad, or IPv6 canonical compressed text (RFC 5952); v4-mapped kept as `::ffff:a.b.c.d`. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** netstat's state name. UDP/raw use the same codes: 7 CLOSE = unconnected, 1 ESTABLISHED = connected. */
  state: TcpState;
  stateCode: number;
  /** rx_queue: bytes not yet read by the application (for LISTEN: the accept backlog). */
  recvQ: number;
  /** tx_queue: bytes not yet acknowledged by the peer. */
  sendQ: number;
  uid: number;
  /** User name from the passwd file (netstat -e), null when the uid has none. */
  user: string | null;
  timer: SocketTimer;
  /** Service names from /etc/services for the ports, absent when the port has no name. */
  localService?: string;
  remoteService?: string;
}

export type UnixType = 'STREAM' | 'DGRAM' | 'RAW' | 'RDM' | 'SEQPACKET' | 'UNKNOWN';
/** netstat -x state column: LISTENING is an unconnected socket with the accept flag (__SO_ACCEPTCON). */
export type UnixState = 'FREE' | 'LISTENING' | 'UNCONNECTED' | 'CONNECTING' | 'CONNECTED' | 'DISCONNECTING' | 'UNKNOWN';
export const UNIX_STATES: readonly UnixState[] = ['FREE', 'LISTENING', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING', 'UNKNOWN'];

export interface UnixSocket extends SocketBase {
  proto: 'unix';
  refCount: number;
  /** Raw flags; `acceptCon` is the ACC flag netstat prints. */
  flags: number;
  acceptCon: boolean;
  type: UnixType;
  typeCode: number;
  state: UnixState;
  stateCode: number;
  /** Bound path; abstract names begin with `@` as netstat and ss show them. null when unbound. */
  path: string | null;
  abstract: boolean;
}

export type Socket = InetSocket | UnixSocket;

export interface ProcessInfo {
  pid: number;
  /** /proc/<pid>/comm */
  program: string;
  /** argv joined with spaces; null when unreadable (kernel threads, exited). */
  cmdline: string | null;
  uid: number | null;
  user: string | null;
  /** Count of socket fds this process holds. */
  socketCount: number;
}

export interface Ownership {
  /** complete: every socket fd was visible; partial: some processes' fds could not be read. */
  status: 'complete' | 'partial' | 'disabled';
  /** Why owners may be missing, e.g. "not root: 12 processes of other users could not be read". */
  reason: string | null;
  isRoot: boolean;
  pidsScanned: number;
  /** Processes whose fd directory we may not read (EACCES/EPERM). */
  pidsDenied: number;
  /** Processes that exited mid-scan (ENOENT/ESRCH). */
  pidsVanished: number;
  /** Sockets with an inode but no owner found. */
  socketsUnowned: number;
}

/* ---------- routes (netstat -r, route -n) ---------- */

export interface Route {
  family: 4 | 6;
  iface: string;
  /** Destination network address (no prefix). */
  destination: string;
  /** Prefix length; for IPv4 derived from the genmask. */
  prefixLen: number;
  /** IPv4 only: dotted genmask, as route -n shows it. */
  genmask: string | null;
  /** Next hop; '0.0.0.0' / '::' when directly connected. */
  gateway: string;
  /** IPv6 source prefix (usually ::/0). */
  source: string | null;
  sourcePrefixLen: number | null;
  /** Flag letters as route -n / netstat -rn print them, e.g. "UG". */
  flags: string;
  flagsRaw: number;
  metric: number;
  refCount: number;
  use: number;
  /** IPv4: MSS (netstat -rn's MSS column is the MTU field of /proc/net/route). */
  mss: number | null;
  window: number | null;
  irtt: number | null;
  isDefault: boolean;
}

/* ---------- interfaces (netstat -i / -ie) ---------- */

export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrs: number;
  rxDrop: number;
  rxFifo: number;
  rxFrame: number;
  rxCompressed: number;
  rxMulticast: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
  txFifo: number;
  txColls: number;
  txCarrier: number;
  txCompressed: number;
}

export type InterfaceRates = { [K in keyof InterfaceCounters as `${K}PerSec`]: number | null };

export interface InterfaceAddress {
  family: 4 | 6;
  address: string;
  prefixLen: number;
  /** IPv6 scope name (global, link, host, site) from if_inet6; null for IPv4. */
  scope: string | null;
}

export interface NetInterface {
  name: string;
  mtu: number | null;
  /** netstat -i Flg letters (B L M O P R U …). */
  flags: string;
  flagsRaw: number | null;
  operstate: string | null;
  /** Link speed in Mbit/s; null when unknown (virtual interfaces report -1). */
  speedMbps: number | null;
  mac: string | null;
  addresses: InterfaceAddress[];
  counters: InterfaceCounters;
  /** Per-second rates against the previous tick; null on the first tick or after a counter reset. */
  rates: InterfaceRates;
}

/* ---------- statistics (netstat -s) ---------- */

export interface ProtocolStats {
  /**
   * Counters by group as the kernel names them: Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite (/proc/net/snmp),
   * TcpExt, IpExt, MPTcpExt (/proc/net/netstat), Ip6, Icmp6, Udp6, UdpLite6 (/proc/net/snmp6).
   */
  counters: Record<string, Record<string, number>>;
  /** Per-second rates of the same counters; null for gauges (e.g. Tcp.CurrEstab) and on the first tick. */
  rates: Record<string, Record<string, number | null>>;
}

/** /proc/net/sockstat and sockstat6: `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1` → sockstat.TCP.inuse = 5. */
export type SockStat = Record<string, Record<string, number>>;

/* ---------- multicast (netstat -g) and conntrack (netstat -M) ---------- */

export interface MulticastGroup {
  family: 4 | 6;
  iface: string;
  ifindex: number;
  /** Group address, e.g. 224.0.0.1 or ff02::1. */
  group: string;
  users: number;
}

export interface ConntrackSummary {
  total: number;
  byProto: Record<string, number>;
  /** TCP conntrack states (ESTABLISHED, TIME_WAIT, SYN_SENT …). */
  byState: Record<string, number>;
  /** Entries with a NAT'd reply tuple (the masquerade entries netstat -M showed). */
  natted: number;
  /** First entries, for the table. */
  sample: ConntrackEntry[];
}

export interface ConntrackEntry {
  family: 4 | 6;
  proto: string;
  state: string | null;
  /** Seconds until the entry expires; null for offloaded flows ([OFFLOAD]/[HW_OFFLOAD]), which print no timeout. */
  timeoutSec: number | null;
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  replySrc: string;
  replyDst: string;
  replySport: number | null;
  replyDport: number | null;
  natted: boolean;
}

/* ---------- kernel settings ---------- */

export interface KernelSettings {
  tcpSyncookies: number | null;
  tcpTwReuse: number | null;
  tcpFinTimeoutSec: number | null;
  tcpMaxTwBuckets: number | null;
  tcpMaxSynBacklog: number | null;
  somaxconn: number | null;
  ipLocalPortRange: [number, number] | null;
}

/* ---------- sources and the snapshot ---------- */

export type SourceName =
  | 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'udplite' | 'udplite6' | 'raw' | 'raw6' | 'unix'
  | 'ownership' | 'passwd' | 'services'
  | 'route' | 'ipv6_route'
  | 'dev' | 'sysfs' | 'if_inet6' | 'addresses'
  | 'snmp' | 'netstat' | 'snmp6' | 'sockstat' | 'sockstat6'
  | 'igmp' | 'igmp6' | 'nf_conntrack'
  | 'sysctl';

export type SourceState = 'ok' | 'missing' | 'unreadable' | 'malformed';

export interface SourceStatus {
  state: SourceState;
  /** Path read, relative to its root's meaning (e.g. /proc/net/tcp). */
  path: string;
  /** What went wrong or what was skipped, with the raw token where there is one. */
  message: string | null;
  /** Lines skipped as malformed this tick. */
  badLines: number;
  /** First malformed line (truncated), for diagnosis. */
  sample: string | null;
  /**
   * Time spent reading and parsing this source, ms, to 0.1 ms. The agent keeps the previous
   * status while a new time is within 0.5 ms or 25% of it (and nothing else changed), so timing
   * noise does not resend the sources section every tick.
   */
  ms: number;
}

export interface HostInfo {
  hostname: string;
  kernel: string;
  /** Seconds since boot from /proc/uptime; null when unreadable. */
  uptimeSec: number | null;
}

/** What one tick cost and how the agent paces itself. */
export interface CollectorInfo {
  /** Requested --interval. */
  intervalMs: number;
  /** Interval in force: stretched when a tick costs more than its share of the interval. */
  effectiveIntervalMs: number;
  /** Why the interval is stretched, null when it is not. */
  stretchedReason: string | null;
  /** Wall time of the last collection. */
  collectMs: number;
  procRoot: string;
}

/* ---------- socket summary (what the overview and wall pages show) ---------- */

/** One remote address in the summary's ranking. */
export interface RemotePeerSummary {
  address: string;
  /** Sockets with this peer (not listening, not unix). */
  total: number;
  /** Those sockets by state (NEW_SYN_RECV counted as SYN_RECV); only states present. */
  states: Partial<Record<TcpState, number>>;
  /** Local ports this peer talks to with their counts, most used first (at most 5). */
  localPorts: [number, number][];
  /** Distinct owning programs, sorted (at most 5). */
  programs: string[];
}

/** One listening inet socket (TCP LISTEN, unconnected UDP/raw), as the overview lists them. */
export interface ListenerSummary {
  id: string;
  proto: InetProto;
  family: 4 | 6;
  address: string;
  port: number;
  service: string | null;
  pid: number | null;
  program: string | null;
}

/**
 * The sockets counted on the agent, once per tick, so a page that shows only counts and rankings
 * (the overview, the wall) can take the summary stream (`/ws?view=summary`, no socket list) and
 * never hold 200k sockets. Computed by `summariseSockets` (summary.ts), the same function a page
 * uses when an older agent sends no summary.
 */
export interface SocketSummary {
  total: number;
  byProto: Record<SocketProto, number>;
  /** Inet sockets by address family (unix sockets in neither). */
  byFamily: { ipv4: number; ipv6: number };
  /** tcp + tcp6 by state; NEW_SYN_RECV counted under SYN_RECV as netstat does. */
  tcpStates: Record<TcpState, number>;
  tcpTotal: number;
  /** Listening inet sockets: TCP LISTEN, UDP/raw not connected (netstat -tulnp -w). */
  listening: number;
  /** Sockets with an inode whose owner was not found. */
  ownerUnseen: number;
  /** Distinct remote addresses. */
  remotePeers: number;
  /** Remote addresses with the most sockets, most first (ties: first seen). */
  topRemotes: RemotePeerSummary[];
  /** Local ports with the most connected (non-listening) inet sockets, most first. */
  topLocalPorts: { port: number; total: number }[];
  /** TCP/UDP listeners (raw left out, as netstat -tulnp does), by port then proto then address; the first `listenersShown`. */
  listeners: ListenerSummary[];
  /** All of them, however many `listeners` holds. */
  listenersTotal: number;
  /** Owning processes with the most sockets, most first; pid null: sockets without a known owner. */
  topProcesses: { pid: number | null; program: string | null; total: number }[];
}

export interface Snapshot {
  version: typeof SCHEMA_VERSION;
  /** Tick sequence number, increasing by one per collected tick. */
  seq: number;
  /** Collection time, epoch ms. */
  time: number;
  host: HostInfo;
  collector: CollectorInfo;
  sockets: Socket[];
  processes: Record<string, ProcessInfo>;
  ownership: Ownership;
  routes: Route[];
  interfaces: NetInterface[];
  stats: ProtocolStats;
  sockstat: SockStat;
  multicast: MulticastGroup[];
  /** null when /proc/net/nf_conntrack is absent (module not loaded). */
  conntrack: ConntrackSummary | null;
  kernel: KernelSettings;
  sources: Partial<Record<SourceName, SourceStatus>>;
  /** Active alerts (agent alert engine); absent when the producer evaluates none (e.g. --once). */
  alerts?: Alert[];
  /** Watched services, up/down and since when; absent when none are configured. */
  services?: WatchedServiceStatus[];
  /** The sockets counted (agent, every tick); absent from --once and from older agents. */
  socketSummary?: SocketSummary;
}

/** Everything in a snapshot but the sockets: what a delta replaces whole when it changed. */
export type SnapshotAggregates = Omit<Snapshot, 'sockets' | 'version' | 'seq' | 'time'>;
export const AGGREGATE_KEYS = [
  'host',
  'collector',
  'processes',
  'ownership',
  'routes',
  'interfaces',
  'stats',
  'sockstat',
  'multicast',
  'conntrack',
  'kernel',
  'sources',
  'alerts',
  'services',
  'socketSummary',
] as const satisfies readonly (keyof SnapshotAggregates)[];
