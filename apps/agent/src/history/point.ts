/**
 * One history point from one snapshot, and the mean of several points (downsampling).
 * Pure.
 */
import {
  HISTORY_COUNTERS,
  HISTORY_MAX_INTERFACES,
  TCP_STATES,
  compareText,
  type SocketSummary,
  type HistoryCounter,
  type HistoryPoint,
  type InterfaceHistory,
  type Snapshot,
} from '@netscope/shared';

const IF_FIELDS = ['rxBytesPerSec', 'txBytesPerSec', 'rxPacketsPerSec', 'txPacketsPerSec', 'errsPerSec', 'dropsPerSec'] as const;
const TOTAL_FIELDS = ['tcp', 'udp', 'raw', 'unix', 'sockets'] as const;

const COUNTER_PARTS: readonly (readonly [HistoryCounter, string, string])[] = HISTORY_COUNTERS.map((c) => {
  const [group, name] = c.split('.') as [string, string];
  return [c, group, name] as const;
});

function sumNullable(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b;
}

/** One pass over the sockets: TCP states (SYN_RECV counting NEW_SYN_RECV) and totals by kind. */
function countSockets(sockets: Snapshot['sockets']): Pick<HistoryPoint, 'states' | 'totals'> {
  const states: Record<string, number> = {};
  const totals = { tcp: 0, udp: 0, raw: 0, unix: 0, sockets: sockets.length };
  for (const s of sockets) {
    switch (s.proto) {
      case 'tcp':
      case 'tcp6': {
        totals.tcp++;
        const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
        states[st] = (states[st] ?? 0) + 1;
        break;
      }
      case 'udp':
      case 'udp6':
      case 'udplite':
      case 'udplite6':
        totals.udp++;
        break;
      case 'raw':
      case 'raw6':
        totals.raw++;
        break;
      case 'unix':
        totals.unix++;
        break;
    }
  }
  return { states, totals };
}

/** The socket counts of a point from the tick's summary (no pass over 200k sockets), equal to countSockets'. */
function countsFromSummary(summary: SocketSummary): Pick<HistoryPoint, 'states' | 'totals'> {
  const states: Record<string, number> = {};
  for (const st of TCP_STATES) if (summary.tcpStates[st] > 0) states[st] = summary.tcpStates[st];
  const p = summary.byProto;
  return {
    states,
    totals: { tcp: p.tcp + p.tcp6, udp: p.udp + p.udp6 + p.udplite + p.udplite6, raw: p.raw + p.raw6, unix: p.unix, sockets: summary.total },
  };
}

export function pointFromSnapshot(snap: Pick<Snapshot, 'time' | 'sockets' | 'interfaces' | 'stats' | 'socketSummary'>, activeAlerts: number): HistoryPoint {
  const { states, totals } =
    snap.socketSummary !== undefined && snap.socketSummary.total === snap.sockets.length ? countsFromSummary(snap.socketSummary) : countSockets(snap.sockets);
  const busiest = [...snap.interfaces]
    .sort((a, b) => (b.rates.rxBytesPerSec ?? 0) + (b.rates.txBytesPerSec ?? 0) - ((a.rates.rxBytesPerSec ?? 0) + (a.rates.txBytesPerSec ?? 0)) || compareText(a.name, b.name))
    .slice(0, HISTORY_MAX_INTERFACES);
  const ifaces: Record<string, InterfaceHistory> = {};
  for (const i of busiest) {
    const r = i.rates;
    ifaces[i.name] = {
      rxBytesPerSec: r.rxBytesPerSec,
      txBytesPerSec: r.txBytesPerSec,
      rxPacketsPerSec: r.rxPacketsPerSec,
      txPacketsPerSec: r.txPacketsPerSec,
      errsPerSec: sumNullable(r.rxErrsPerSec, r.txErrsPerSec),
      dropsPerSec: sumNullable(r.rxDropPerSec, r.txDropPerSec),
    };
  }
  const counters: Partial<Record<HistoryCounter, number | null>> = {};
  for (const [key, group, name] of COUNTER_PARTS) {
    const rate = snap.stats.rates[group]?.[name];
    if (rate !== undefined) counters[key] = rate;
  }
  return { t: snap.time, n: 1, states, totals, ifaces, counters, alerts: activeAlerts };
}

/** Running weighted sums for one bucket; `finish()` gives the mean point. */
export class PointAccumulator {
  n = 0;
  private states = new Map<string, number>();
  private totals = { tcp: 0, udp: 0, raw: 0, unix: 0, sockets: 0 };
  private ifaces = new Map<string, { sum: number[]; weight: number[] }>();
  private counters = new Map<HistoryCounter, { sum: number; weight: number; seen: boolean }>();
  private alerts = 0;

  constructor(readonly t: number) {}

  add(p: HistoryPoint): void {
    const w = p.n;
    this.n += w;
    for (const [k, v] of Object.entries(p.states)) this.states.set(k, (this.states.get(k) ?? 0) + v * w);
    for (const f of TOTAL_FIELDS) this.totals[f] += p.totals[f] * w;
    for (const [name, i] of Object.entries(p.ifaces)) {
      let acc = this.ifaces.get(name);
      if (!acc) {
        if (this.ifaces.size >= HISTORY_MAX_INTERFACES) continue;
        acc = { sum: IF_FIELDS.map(() => 0), weight: IF_FIELDS.map(() => 0) };
        this.ifaces.set(name, acc);
      }
      IF_FIELDS.forEach((f, idx) => {
        const v = i[f];
        if (v !== null) {
          acc.sum[idx]! += v * w;
          acc.weight[idx]! += w;
        }
      });
    }
    for (const [key, v] of Object.entries(p.counters) as [HistoryCounter, number | null][]) {
      let acc = this.counters.get(key);
      if (!acc) {
        acc = { sum: 0, weight: 0, seen: true };
        this.counters.set(key, acc);
      }
      if (v !== null) {
        acc.sum += v * w;
        acc.weight += w;
      }
    }
    this.alerts = Math.max(this.alerts, p.alerts);
  }

  finish(): HistoryPoint {
    const n = this.n;
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    const states: Record<string, number> = {};
    for (const [k, v] of this.states) if (v > 0) states[k] = round(v / n);
    const totals = { tcp: round(this.totals.tcp / n), udp: round(this.totals.udp / n), raw: round(this.totals.raw / n), unix: round(this.totals.unix / n), sockets: round(this.totals.sockets / n) };
    const ifaces: Record<string, InterfaceHistory> = {};
    for (const [name, acc] of this.ifaces) {
      const mean = (idx: number): number | null => (acc.weight[idx]! > 0 ? round(acc.sum[idx]! / acc.weight[idx]!) : null);
      ifaces[name] = {
        rxBytesPerSec: mean(0),
        txBytesPerSec: mean(1),
        rxPacketsPerSec: mean(2),
        txPacketsPerSec: mean(3),
        errsPerSec: mean(4),
        dropsPerSec: mean(5),
      };
    }
    const counters: Partial<Record<HistoryCounter, number | null>> = {};
    for (const [key, acc] of this.counters) counters[key] = acc.weight > 0 ? round(acc.sum / acc.weight) : null;
    return { t: this.t, n, states, totals, ifaces, counters, alerts: this.alerts };
  }
}
