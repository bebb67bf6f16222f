/**
 * Chart history, recorded once per tick whatever page is open. Every series is a RingBuffer, so a
 * wall screen left for a day holds the same few hundred points as one opened a minute ago.
 */
import { TCP_STATES, type HistoryPoint, type Snapshot, type TcpState } from '@netscope/shared';
import { RingBuffer } from './ring';
import { emptyStateCounts, type StateCounts } from './aggregate';

export interface StatePoint {
  t: number;
  counts: StateCounts;
}

export interface IfacePoint {
  t: number;
  rxBytesPerSec: number | null;
  txBytesPerSec: number | null;
  rxPacketsPerSec: number | null;
  txPacketsPerSec: number | null;
  errsPerSec: number | null;
  dropsPerSec: number | null;
}

function sumNullable(a: number | null, b: number | null): number | null {
  if (a === null && b === null) return null;
  return (a ?? 0) + (b ?? 0);
}

export class History {
  readonly tcpStates: RingBuffer<StatePoint>;
  readonly ifaces = new Map<string, RingBuffer<IfacePoint>>();
  /** Per-process state counts, for the processes the operator has opened (LRU, bounded). */
  readonly processes = new Map<number, RingBuffer<StatePoint>>();

  constructor(
    readonly capacity = 600,
    readonly maxTrackedPids = 8,
  ) {
    this.tcpStates = new RingBuffer(capacity);
  }

  record(snapshot: Snapshot, tcpStates: StateCounts): void {
    const t = snapshot.time;
    const last = this.tcpStates.last();
    if (last && last.t === t) return;
    this.tcpStates.push({ t, counts: tcpStates });
    const seen = new Set<string>();
    for (const iface of snapshot.interfaces) {
      seen.add(iface.name);
      let ring = this.ifaces.get(iface.name);
      if (!ring) {
        ring = new RingBuffer(this.capacity);
        this.ifaces.set(iface.name, ring);
      }
      const r = iface.rates;
      ring.push({
        t,
        rxBytesPerSec: r.rxBytesPerSec,
        txBytesPerSec: r.txBytesPerSec,
        rxPacketsPerSec: r.rxPacketsPerSec,
        txPacketsPerSec: r.txPacketsPerSec,
        errsPerSec: sumNullable(r.rxErrsPerSec, r.txErrsPerSec),
        dropsPerSec: sumNullable(r.rxDropPerSec, r.txDropPerSec),
      });
    }
    // Interfaces that went away (containers come and go) take their history with them.
    for (const name of [...this.ifaces.keys()]) if (!seen.has(name)) this.ifaces.delete(name);
  }

  /**
   * A tracked pid's TCP state counts at `t` (its page has them from GET /api/processes/:pid each
   * tick: the page takes the summary stream, which has no socket list to count). A second answer
   * for the same tick (a new sort) adds nothing.
   */
  recordPid(pid: number, t: number, states: Partial<Record<TcpState, number>>): void {
    const ring = this.processes.get(pid);
    if (!ring) return;
    const last = ring.last();
    if (last !== undefined && last.t >= t) return;
    const counts = emptyStateCounts();
    for (const [st, n] of Object.entries(states)) counts[st as TcpState] = n ?? 0;
    ring.push({ t, counts });
  }

  /** Start (or keep) tracking a pid; the least recently tracked falls out past the limit. */
  trackPid(pid: number): RingBuffer<StatePoint> {
    let ring = this.processes.get(pid);
    if (ring) {
      this.processes.delete(pid);
    } else {
      ring = new RingBuffer(this.capacity);
    }
    this.processes.set(pid, ring);
    while (this.processes.size > this.maxTrackedPids) {
      const oldest = this.processes.keys().next().value;
      if (oldest === undefined) break;
      this.processes.delete(oldest);
    }
    return ring;
  }

  /**
   * Put the agent's recent history (GET /api/history) in front of what this page recorded, so a
   * reloaded wall screen shows the last minutes at once. Points at or after the first live tick
   * are skipped; malformed points are ignored.
   */
  prefill(points: readonly HistoryPoint[]): number {
    const firstLive = this.tcpStates.at(0)?.t ?? Infinity;
    const old = points.filter((p) => typeof p?.t === 'number' && p.t < firstLive && typeof p.states === 'object' && p.states !== null);
    if (old.length === 0) return 0;
    const live = this.tcpStates.toArray();
    this.tcpStates.clear();
    for (const p of old.slice(-this.capacity)) {
      const counts = emptyStateCounts();
      for (const st of TCP_STATES) {
        const n = p.states[st];
        if (typeof n === 'number') counts[st] = n;
      }
      this.tcpStates.push({ t: p.t, counts });
    }
    for (const x of live) this.tcpStates.push(x);
    for (const [name, ring] of this.ifaces) {
      const liveIf = ring.toArray();
      const firstIf = liveIf[0]?.t ?? Infinity;
      ring.clear();
      for (const p of old.slice(-this.capacity)) {
        const h = p.ifaces?.[name];
        if (!h || p.t >= firstIf) continue;
        ring.push({ t: p.t, ...h });
      }
      for (const x of liveIf) ring.push(x);
    }
    return old.length;
  }

  clear(): void {
    this.tcpStates.clear();
    this.ifaces.clear();
    this.processes.clear();
  }
}

/** The states worth a line on a chart (the rest are near zero almost always). */
export const CHART_STATES: readonly TcpState[] = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV', 'SYN_SENT', 'FIN_WAIT1', 'FIN_WAIT2', 'LISTEN'];

export const ALL_STATES = TCP_STATES;
