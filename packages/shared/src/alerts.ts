/**
 * Alerts, watched services and history as they travel over the wire (`/ws` snapshots carry the
 * active alerts and the service status; `/api/alerts`, `/api/config` and `/api/history` carry the
 * rest). Produced by the agent (apps/agent/src/alerts, apps/agent/src/history), read by the page.
 */

/** The rules netscope knows. Thresholds default to the seed articles' monitoring scripts. */
export type AlertRuleName =
  | 'synRecv'
  | 'timeWait'
  | 'closeWait'
  | 'established'
  | 'perRemote'
  | 'perLocalPort'
  | 'serviceDown'
  | 'interfaceErrors'
  | 'listenOverflows';

export const ALERT_RULE_NAMES: readonly AlertRuleName[] = [
  'synRecv',
  'timeWait',
  'closeWait',
  'established',
  'perRemote',
  'perLocalPort',
  'serviceDown',
  'interfaceErrors',
  'listenOverflows',
];

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** One rule's effective settings (config file merged over the defaults). */
export interface AlertRuleConfig {
  enabled: boolean;
  severity: AlertSeverity;
  /** Raise when the value is above this (strictly greater, as the seed scripts' `-gt`). serviceDown: unused (0). */
  threshold: number;
  /** The condition must hold this long, without a break, before the alert is raised. */
  raiseAfterSec: number;
  /** The condition must be gone this long, without a break, before the alert is cleared. */
  clearAfterSec: number;
  /**
   * interfaceErrors / listenOverflows: the value is the counter's increase over this many seconds.
   * Absent for the other rules.
   */
  windowSec?: number;
  /** perRemote: ignore connections whose remote address is loopback (local proxies). */
  ignoreLoopback?: boolean;
  /** perLocalPort: watch only these ports (e.g. the services' ports); absent: every port. */
  ports?: number[];
}

export type AlertRulesConfig = Record<AlertRuleName, AlertRuleConfig>;

export type WatchedProto = 'tcp' | 'udp';

/** A service expected to listen: `22/tcp`, or `{port: 22, proto: tcp, program: sshd}`. */
export interface WatchedServiceConfig {
  port: number;
  proto: WatchedProto;
  /** Expected owner (/proc/<pid>/comm, as `ss -p` shows it); null: any program. */
  program: string | null;
  /** Label for the wall, e.g. "ssh"; null: `22/tcp`. */
  name: string | null;
}

/** Webhook settings as the API shows them: the URL without credentials or query. */
export interface WebhookPublicConfig {
  url: string;
  timeoutMs: number;
  retries: number;
}

/** GET /api/config: what the agent watches for and how, for the UI (thresholds shown beside the charts). */
export interface EffectiveConfigResponse {
  /** The config file read, or null when running on defaults. */
  configFile: string | null;
  rules: AlertRulesConfig;
  services: WatchedServiceConfig[];
  webhook: WebhookPublicConfig | null;
  history: {
    dataDir: string;
    /** false when the store could not be opened: history is kept in memory only. */
    persisted: boolean;
    storeError: string | null;
    /** Writes to the store so far; flushErrors > 0 means the disk refused (lastError says why). null when not persisted. */
    store: { writes: number; flushes: number; flushErrors: number; lastError: string | null } | null;
    tiers: HistoryTierInfo[];
  };
}

/** One "what to look at" line: a setting or a figure with its current value and why it matters. */
export interface AlertHint {
  label: string;
  /** Current value; null when unknown (e.g. the sysctl could not be read). */
  value: string | number | null;
  note: string;
}

export interface Alert {
  /** Unique per occurrence: `<instance>@<raisedAt>`. */
  id: string;
  /** Stable while the condition lasts: the rule, plus the key for per-address/port/interface/service rules, e.g. `perRemote:10.0.0.7`. */
  instance: string;
  rule: AlertRuleName;
  /** Address, port, interface or service the alert is about; null for host-wide rules. */
  key: string | null;
  severity: AlertSeverity;
  /** One line for the wall, e.g. "SYN_RECV: 73 half-open connections (> 50)". */
  title: string;
  /** What it means, in a sentence or two. */
  meaning: string;
  /** What to look at, with current values (kernel settings from snapshot.kernel, top source addresses…). */
  lookAt: AlertHint[];
  /** Path + query in the web app showing the connections concerned, e.g. `/connections?state=SYN_RECV`. */
  link: string;
  /** Current value (latest tick while active; the value at clearing once cleared). */
  value: number;
  /** Highest value seen while active. */
  peak: number;
  threshold: number;
  /** Epoch ms. */
  raisedAt: number;
  /** Epoch ms; null while active. */
  clearedAt: number | null;
}

export interface AlertEvent {
  kind: 'raised' | 'cleared';
  /** Epoch ms. */
  at: number;
  /** The value that raised / cleared it. */
  value: number;
  alert: Alert;
}

export interface WebhookStats {
  /** POSTs answered with 2xx. */
  sent: number;
  /** Events given up on after the last retry. */
  failed: number;
  /** Attempts that failed and were retried. */
  retried: number;
  /** Events dropped because the queue was full (receiver too slow or down for long). */
  dropped: number;
  queued: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

/** GET /api/alerts */
export interface AlertsResponse {
  active: Alert[];
  /** Raised/cleared events, newest first, bounded. */
  log: AlertEvent[];
  /** Size bound of the log. */
  logLimit: number;
  webhook: WebhookStats | null;
}

export interface WatchedServiceStatus {
  /** `22/tcp`. */
  service: string;
  name: string | null;
  port: number;
  proto: WatchedProto;
  program: string | null;
  up: boolean;
  /** Epoch ms of the last up/down change seen by the agent. */
  since: number;
  /** true when the state has not changed since the agent started (so `since` is a lower bound). */
  sinceAgentStart: boolean;
  /** The listening sockets that make it up (address, program, pid). */
  listeners: { address: string; program: string | null; pid: number | null }[];
  /** Why it is down, or a caveat while up (e.g. owner not visible without root). */
  note: string | null;
}

/* ---------- history ---------- */

export interface InterfaceHistory {
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
  rxPacketsPerSec: number | null;
  txPacketsPerSec: number | null;
  /** rxErrs + txErrs per second. */
  errsPerSec: number | null;
  /** rxDrop + txDrop per second. */
  dropsPerSec: number | null;
}

/** The protocol counters kept as rates in the history (`Group.Counter`). */
export const HISTORY_COUNTERS = [
  'Tcp.ActiveOpens',
  'Tcp.PassiveOpens',
  'Tcp.AttemptFails',
  'Tcp.EstabResets',
  'Tcp.InSegs',
  'Tcp.OutSegs',
  'Tcp.RetransSegs',
  'Tcp.InErrs',
  'Tcp.OutRsts',
  'TcpExt.ListenOverflows',
  'TcpExt.ListenDrops',
  'TcpExt.TCPTimeouts',
  'TcpExt.SyncookiesSent',
  'Udp.InDatagrams',
  'Udp.OutDatagrams',
  'Udp.InErrors',
  'Udp.NoPorts',
  'Udp.RcvbufErrors',
  'Ip.InReceives',
  'Ip.OutRequests',
] as const;
export type HistoryCounter = (typeof HISTORY_COUNTERS)[number];

/**
 * One point: a tick at full resolution, or the mean of the ticks in a bucket when downsampled
 * (rates and counts are averaged; `alerts` is the bucket's maximum).
 */
export interface HistoryPoint {
  /** Bucket start (full resolution: the tick time), epoch ms. */
  t: number;
  /** Ticks merged into this point. */
  n: number;
  /** TCP sockets (tcp + tcp6) by state; states with no socket are absent. */
  states: Record<string, number>;
  totals: {
    tcp: number;
    udp: number;
    raw: number;
    unix: number;
    sockets: number;
  };
  /** Per-interface rates, by interface name (at most HISTORY_MAX_INTERFACES, busiest first). */
  ifaces: Record<string, InterfaceHistory>;
  /** Rates per second of HISTORY_COUNTERS; null on the first tick or when the counter is absent. */
  counters: Partial<Record<HistoryCounter, number | null>>;
  /** Active alerts. */
  alerts: number;
}

export const HISTORY_MAX_INTERFACES = 32;

export interface HistoryTierInfo {
  resolutionSec: number;
  /** How far back this tier reaches. */
  spanSec: number;
  /** Points held now. */
  points: number;
  capacity: number;
}

/** GET /api/history?range=SECONDS */
export interface HistoryResponse {
  /** Agent clock, epoch ms. */
  now: number;
  rangeSec: number;
  /** Resolution of `points`: the finest tier that spans the range. */
  resolutionSec: number;
  /** Oldest first. */
  points: HistoryPoint[];
  tiers: HistoryTierInfo[];
}
