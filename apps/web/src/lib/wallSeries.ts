/**
 * Time series for the wall's charts: filled from GET /api/history the moment the page opens (and
 * again after every reconnect, which fills the gap), then extended by live ticks from the stream.
 *
 * Each series is a plain array of {x, y} points that Chart.js reads directly (parsing off), so a
 * tick is one push (and one shift once full) per series: no per-tick rebuild. Bounded twice: at
 * most `capacity` points, and nothing older than `windowMs` before the newest point. Live ticks
 * faster than `stepMs` are folded into the last point (the max, so a one-tick spike is not lost):
 * an hour at 1 s is 3600 points whatever the agent's --interval.
 */
import type { HistoryPoint } from '@netscope/shared';

export interface XY {
  x: number;
  y: number | null;
}

/** Live ticks further apart than this (the agent was away) break the line. */
export const LIVE_GAP_MS = 60_000;

/**
 * How far apart two history points may be before the line breaks: three times their usual spacing
 * (the median), and never under a minute, since a busy agent stretches its interval to tens of
 * seconds and that is slow data, not an outage. Pure.
 */
export function gapThreshold(points: readonly { t: number }[], stepMs: number): number {
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i]!.t - points[i - 1]!.t);
  gaps.sort((a, b) => a - b);
  const median = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0;
  return Math.max(LIVE_GAP_MS, 5 * stepMs, 3 * median);
}

export class SeriesSet<K extends string> {
  readonly data: Record<K, XY[]>;
  /** Time of the newest point, or null when empty. */
  private lastT: number | null = null;
  /** Start of the bucket the last point belongs to (live points are folded per stepMs). */
  private bucketStart = -Infinity;

  constructor(
    readonly keys: readonly K[],
    readonly windowMs = 3_600_000,
    readonly stepMs = 1_000,
    readonly capacity = 3_700,
  ) {
    this.data = {} as Record<K, XY[]>;
    for (const k of keys) this.data[k] = [];
  }

  get length(): number {
    const first = this.keys[0];
    return first === undefined ? 0 : this.data[first].length;
  }

  get newest(): number | null {
    return this.lastT;
  }

  /** One live tick. Older than the newest point: ignored (a replayed or reordered tick). */
  append(t: number, values: Record<K, number | null>): void {
    if (this.lastT !== null && t <= this.lastT) return;
    if (this.lastT !== null && t < this.bucketStart + this.stepMs) {
      // Same bucket: fold into the last point (max), keeping the newest time.
      for (const k of this.keys) {
        const arr = this.data[k];
        const p = arr[arr.length - 1];
        if (!p) continue;
        const v = values[k];
        p.x = t;
        if (v !== null && (p.y === null || v > p.y)) p.y = v;
      }
      this.lastT = t;
      return;
    }
    if (this.lastT !== null && t - this.lastT > LIVE_GAP_MS) {
      for (const k of this.keys) this.data[k].push({ x: this.lastT + 1, y: null });
    }
    for (const k of this.keys) this.data[k].push({ x: t, y: values[k] });
    this.lastT = t;
    this.bucketStart = t;
    this.trim();
  }

  /**
   * Replace what is held with the agent's history, keeping the live points newer than the last
   * history point (ticks that arrived while the request was in flight). Arrays are refilled in
   * place, so a chart holding them sees the change on its next update.
   */
  load<P extends { t: number }>(points: readonly P[], pick: (p: P) => Record<K, number | null>): void {
    let lastHist = -Infinity;
    for (const p of points) if (p.t > lastHist) lastHist = p.t;
    const keep = {} as Record<K, XY[]>;
    for (const k of this.keys) keep[k] = this.data[k].filter((p) => p.x > lastHist);
    for (const k of this.keys) this.data[k].length = 0;
    const gapMs = gapThreshold(points, this.stepMs);
    let prev = -Infinity;
    for (const p of points) {
      if (p.t <= prev) continue; // the API is oldest first; guard anyway
      // The agent was not running (or not collecting) in between: break the line instead of
      // drawing a straight slope across the outage.
      if (p.t - prev > gapMs) for (const k of this.keys) this.data[k].push({ x: prev + 1, y: null });
      prev = p.t;
      const v = pick(p);
      for (const k of this.keys) this.data[k].push({ x: p.t, y: v[k] });
    }
    for (const k of this.keys) for (const p of keep[k]) this.data[k].push(p);
    const first = this.keys[0];
    const arr = first === undefined ? [] : this.data[first];
    this.lastT = arr.length ? arr[arr.length - 1]!.x : null;
    this.bucketStart = this.lastT ?? -Infinity;
    this.trim();
  }

  clear(): void {
    for (const k of this.keys) this.data[k].length = 0;
    this.lastT = null;
    this.bucketStart = -Infinity;
  }

  private trim(): void {
    if (this.lastT === null) return;
    const oldest = this.lastT - this.windowMs;
    for (const k of this.keys) {
      const arr = this.data[k];
      let drop = 0;
      while (drop < arr.length && (arr.length - drop > this.capacity || arr[drop]!.x < oldest)) drop++;
      if (drop === 1) arr.shift();
      else if (drop > 1) arr.splice(0, drop);
    }
  }
}

/** The TCP states the wall charts (the ones that mean trouble when they pile up). */
export const WALL_STATES = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV'] as const;
export type WallState = (typeof WALL_STATES)[number];

/** A history point's state counts (absent state: 0; NEW_SYN_RECV folded into SYN_RECV as netstat). */
export function statesOfPoint(p: Pick<HistoryPoint, 'states'>): Record<WallState, number> {
  const s = p.states ?? {};
  return {
    ESTABLISHED: s.ESTABLISHED ?? 0,
    TIME_WAIT: s.TIME_WAIT ?? 0,
    CLOSE_WAIT: s.CLOSE_WAIT ?? 0,
    SYN_RECV: (s.SYN_RECV ?? 0) + (s.NEW_SYN_RECV ?? 0),
  };
}
