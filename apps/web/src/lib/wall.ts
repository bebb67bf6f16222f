/**
 * The wall screen's decisions, free of Vue: how a big number is written, its colour against the
 * agent's thresholds (/api/config), the stale text, panel rotation (`/wall?rotate=30`), and which
 * interfaces count as traffic. Tested beside this file.
 */
import type { Alert, AlertRuleConfig, AlertRuleName, AlertSeverity, EffectiveConfigResponse, NetInterface } from '@netscope/shared';
import { clockTime, duration } from './time';

/**
 * A number short enough to stay huge in a sixth of the screen: plain digits below 10 000 (no
 * separator: one character less), then 12.3k, 123k, 1.23M. Null/NaN: an em dash.
 */
export function wallNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const v = Math.round(n);
  const a = Math.abs(v);
  if (a < 10_000) return String(v);
  const [div, unit] = a < 1e6 ? [1e3, 'k'] : a < 1e9 ? [1e6, 'M'] : [1e9, 'G'];
  const x = v / div;
  const ax = Math.abs(x);
  // Truncate rather than round, so 99 999 never reads as "100k" (a threshold at 100k).
  const digits = ax < 10 ? 2 : ax < 100 ? 1 : 0;
  const f = 10 ** digits;
  return `${(Math.trunc(x * f) / f).toFixed(digits)}${unit}`;
}

export type Tone = 'ok' | 'warn' | 'crit' | 'neutral';

/** Fraction of the threshold at which a number turns amber before any alert. */
export const APPROACH = 0.8;

export function severityTone(s: AlertSeverity): Tone {
  return s === 'critical' ? 'crit' : s === 'warning' ? 'warn' : 'neutral';
}

/**
 * The colour of a big number: an active alert of its rule wins (its severity); above the threshold
 * but not raised yet (the rule waits raiseAfterSec) counts as the rule's severity too; from 80 % of
 * the threshold amber; else green. No rule, or a disabled one: neutral (nothing to compare with).
 */
export function toneFor(value: number | null, rule: AlertRuleConfig | undefined, active: Alert | undefined): Tone {
  if (active) return severityTone(active.severity) === 'neutral' ? 'warn' : severityTone(active.severity);
  if (!rule || !rule.enabled || value === null) return 'neutral';
  if (value > rule.threshold) return rule.severity === 'critical' ? 'crit' : 'warn';
  if (rule.threshold > 0 && value >= rule.threshold * APPROACH) return 'warn';
  return 'ok';
}

/** The small text beside a number: "alert > 200 for 30 s", "alert off", "" without a rule. */
export function thresholdText(rule: AlertRuleConfig | undefined): string {
  if (!rule) return '';
  if (!rule.enabled) return 'alert off';
  return `alert > ${wallNumber(rule.threshold)}${rule.raiseAfterSec > 0 ? ` for ${secText(rule.raiseAfterSec)}` : ''}`;
}

export function secText(sec: number): string {
  if (sec < 60) return `${Number.isInteger(sec) ? sec : sec.toFixed(1)} s`;
  if (sec % 3600 === 0) return `${sec / 3600} h`;
  if (sec % 60 === 0) return `${sec / 60} min`;
  return duration(sec * 1000);
}

/** The big tiles on the wall, and the alert rule each one is compared with. */
export interface TileSpec {
  key: 'ESTABLISHED' | 'LISTEN' | 'SYN_RECV' | 'TIME_WAIT' | 'CLOSE_WAIT' | 'total';
  label: string;
  rule: AlertRuleName | null;
}

export const WALL_TILES: readonly TileSpec[] = [
  { key: 'ESTABLISHED', label: 'ESTABLISHED', rule: 'established' },
  { key: 'LISTEN', label: 'LISTEN', rule: null },
  { key: 'SYN_RECV', label: 'SYN_RECV', rule: 'synRecv' },
  { key: 'TIME_WAIT', label: 'TIME_WAIT', rule: 'timeWait' },
  { key: 'CLOSE_WAIT', label: 'CLOSE_WAIT', rule: 'closeWait' },
  { key: 'total', label: 'SOCKETS', rule: null },
];

/** The active alert of a host-wide rule (the tiles' rules have no key). */
export function activeFor(alerts: readonly Alert[] | undefined, rule: AlertRuleName | null): Alert | undefined {
  if (!rule || !alerts) return undefined;
  return alerts.find((a) => a.rule === rule);
}

export function ruleOf(config: EffectiveConfigResponse | null, rule: AlertRuleName | null): AlertRuleConfig | undefined {
  return rule && config ? config.rules[rule] : undefined;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };

/** Critical first, then warning, then info; newest first within a severity. */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.raisedAt - a.raisedAt);
}

/** The worst severity among the alerts, null when there are none. */
export function worstSeverity(alerts: readonly Alert[]): AlertSeverity | null {
  let best: AlertSeverity | null = null;
  for (const a of alerts) if (best === null || SEVERITY_RANK[a.severity] < SEVERITY_RANK[best]) best = a.severity;
  return best;
}

/** "data from 12:03:04, 42 s ago" for the stale banner. */
export function staleText(lastUpdate: number | null, now: number): string {
  if (lastUpdate === null) return 'no data yet';
  return `data from ${clockTime(lastUpdate)}, ${duration(now - lastUpdate)} ago`;
}

/** `?rotate=30` → 30 (seconds, 5–3600); absent, malformed or out of range → null (no rotation). */
export function parseRotate(raw: unknown): number | null {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (typeof v !== 'string' || !/^\d{1,5}$/.test(v)) return null;
  const n = Number(v);
  return n >= 5 && n <= 3600 ? n : null;
}

/** Which of `count` panels shows at `now` when rotating every `periodSec` from `start`. */
export function rotationIndex(now: number, start: number, periodSec: number, count: number): number {
  if (count <= 0) return 0;
  const steps = Math.floor(Math.max(0, now - start) / (periodSec * 1000));
  return steps % count;
}

/** Loopback traffic is the host talking to itself: left out of the wall's throughput. */
export function isLoopbackIface(name: string, flags?: string): boolean {
  return name === 'lo' || (flags !== undefined && flags.includes('L'));
}

export interface IfaceRate {
  name: string;
  rx: number | null;
  tx: number | null;
  up: boolean;
}

/** The busiest interfaces now (rx + tx), loopback last, at most `limit`. */
export function topInterfaces(ifaces: readonly NetInterface[], limit: number): IfaceRate[] {
  const rows = ifaces.map((i) => ({
    name: i.name,
    rx: i.rates.rxBytesPerSec,
    tx: i.rates.txBytesPerSec,
    up: i.operstate === null ? i.flags.includes('U') : i.operstate === 'up' || i.operstate === 'unknown',
    loop: isLoopbackIface(i.name, i.flags),
  }));
  rows.sort((a, b) => Number(a.loop) - Number(b.loop) || Number(b.up) - Number(a.up) || (b.rx ?? 0) + (b.tx ?? 0) - ((a.rx ?? 0) + (a.tx ?? 0)) || a.name.localeCompare(b.name));
  return rows.slice(0, limit).map(({ name, rx, tx, up }) => ({ name, rx, tx, up }));
}

/** Sum of rx and tx bytes/s over non-loopback interfaces; null when no interface has a rate yet. */
export function trafficOf(ifaces: Iterable<{ name: string; flags?: string; rx: number | null; tx: number | null }>): { rx: number | null; tx: number | null } {
  let rx: number | null = null;
  let tx: number | null = null;
  for (const i of ifaces) {
    if (isLoopbackIface(i.name, i.flags)) continue;
    if (i.rx !== null) rx = (rx ?? 0) + i.rx;
    if (i.tx !== null) tx = (tx ?? 0) + i.tx;
  }
  return { rx, tx };
}

/**
 * Font size for a big number, as CSS: as large as `base` allows, shrunk so `chars` characters fit
 * `widthExpr` (bold digits are about 0.7 em wide in DejaVu Sans Bold, the widest of the usual fallbacks).
 */
export function bigFontSize(chars: number, base: string, widthExpr: string): string {
  const n = Math.max(1, chars);
  return `min(${base}, calc(${widthExpr} / ${(n * 0.72).toFixed(2)}))`;
}

/** What each rule compares, for the thresholds table (docs/alerts.md, in a line). */
export const RULE_INFO: Readonly<Record<AlertRuleName, { label: string; compares: string }>> = {
  synRecv: { label: 'SYN_RECV', compares: 'TCP sockets in SYN_RECV (half-open; request sockets included)' },
  timeWait: { label: 'TIME_WAIT', compares: 'TCP sockets in TIME_WAIT' },
  closeWait: { label: 'CLOSE_WAIT', compares: 'TCP sockets in CLOSE_WAIT (the application has not closed)' },
  established: { label: 'ESTABLISHED', compares: 'TCP sockets in ESTABLISHED' },
  perRemote: { label: 'One remote address', compares: 'non-LISTEN TCP sockets of one remote address' },
  perLocalPort: { label: 'One local port', compares: 'non-LISTEN TCP sockets on one local port' },
  serviceDown: { label: 'Service down', compares: 'a watched service not listening' },
  interfaceErrors: { label: 'Interface errors', compares: 'rx+tx errors and drops of one interface over the window' },
  listenOverflows: { label: 'Listen overflows', compares: 'increase of TcpExt.ListenDrops over the window' },
};

/** The extra settings of a rule, as text: "window 60 s", "ports 80, 443", "loopback ignored". */
export function ruleExtras(rule: AlertRuleConfig): string {
  const out: string[] = [];
  if (rule.windowSec !== undefined) out.push(`window ${secText(rule.windowSec)}`);
  if (rule.ports !== undefined) out.push(rule.ports.length ? `ports ${rule.ports.join(', ')}` : 'no ports');
  if (rule.ignoreLoopback !== undefined) out.push(rule.ignoreLoopback ? 'loopback ignored' : 'loopback counted');
  return out.join(' · ');
}

/** Watched services for the wall: down first (longest down first), then up, by name. */
export function servicesForWall<T extends { up: boolean; since: number; service: string; name: string | null }>(services: readonly T[]): T[] {
  return [...services].sort((a, b) => Number(a.up) - Number(b.up) || (a.up ? (a.name ?? a.service).localeCompare(b.name ?? b.service) : a.since - b.since));
}
