/**
 * Per-second history in bounded memory: tiers of fixed-capacity rings, each a coarser mean of
 * the one before. Tier 0 buckets ticks into 1 s points (ticks faster than 1 s are averaged), tier 1
 * averages tier 0 into 10 s points, tier 2 into 60 s points. A point leaves its tier when it is
 * older than the tier's span or the ring is full, whichever comes first, so memory is bounded by
 * the capacities whatever the interval or the uptime.
 *
 * Time comes from the points (snapshot times), never from a clock: tests simulate days in
 * milliseconds.
 */
import type { HistoryPoint, HistoryResponse, HistoryTierInfo } from '@netscope/shared';
import { PointAccumulator } from './point.js';
import { pack, unpack, type PackedPoint } from './packed.js';

export interface TierSpec {
  resolutionSec: number;
  spanSec: number;
}

export const DEFAULT_TIERS: readonly TierSpec[] = [
  { resolutionSec: 1, spanSec: 3600 },
  { resolutionSec: 10, spanSec: 6 * 3600 },
  { resolutionSec: 60, spanSec: 48 * 3600 },
];

/** Fixed-capacity ring of points, oldest first, held packed (see packed.ts). */
export class Ring {
  private buf: (PackedPoint | undefined)[];
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<PackedPoint | undefined>(capacity);
  }

  push(p: HistoryPoint): void {
    this.buf[(this.head + this.size) % this.capacity] = pack(p);
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  private packedAt(i: number): PackedPoint {
    return this.buf[(this.head + i) % this.capacity]!;
  }

  at(i: number): HistoryPoint {
    return unpack(this.packedAt(i));
  }

  /** Time of the oldest / newest point; undefined when empty. */
  oldestT(): number | undefined {
    return this.size ? this.packedAt(0).t : undefined;
  }

  newestT(): number | undefined {
    return this.size ? this.packedAt(this.size - 1).t : undefined;
  }

  dropOlderThan(t: number): void {
    while (this.size > 0 && this.packedAt(0).t < t) {
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
  }

  /** Points with t >= from, oldest first. */
  since(from: number): HistoryPoint[] {
    // Binary search for the first index with t >= from.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.packedAt(mid).t < from) lo = mid + 1;
      else hi = mid;
    }
    const out: HistoryPoint[] = [];
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }
}

class Tier {
  readonly ring: Ring;
  readonly resolutionMs: number;
  readonly spanMs: number;
  pending: PointAccumulator | null = null;

  constructor(readonly spec: TierSpec) {
    this.resolutionMs = spec.resolutionSec * 1000;
    this.spanMs = spec.spanSec * 1000;
    this.ring = new Ring(Math.ceil(spec.spanSec / spec.resolutionSec));
  }

  bucketOf(t: number): number {
    return Math.floor(t / this.resolutionMs) * this.resolutionMs;
  }
}

/** A point completed in a tier, for the store. */
export interface Completed {
  tier: number;
  point: HistoryPoint;
}

export class History {
  private readonly tiers: Tier[];

  constructor(specs: readonly TierSpec[] = DEFAULT_TIERS) {
    if (specs.length === 0) throw new Error('history needs at least one tier');
    this.tiers = specs.map((s) => new Tier(s));
  }

  get specs(): readonly TierSpec[] {
    return this.tiers.map((t) => t.spec);
  }

  /** Add one tick's point; returns the points completed in each tier (to persist). */
  record(point: HistoryPoint): Completed[] {
    const done: Completed[] = [];
    this.feed(0, point, done);
    return done;
  }

  private feed(index: number, point: HistoryPoint, done: Completed[]): void {
    const tier = this.tiers[index];
    if (!tier) return;
    const bucket = tier.bucketOf(point.t);
    const last = tier.ring.newestT();
    if (last !== undefined && bucket <= last) return; // late point (clock stepped back): ignored
    if (tier.pending !== null && tier.pending.t !== bucket) {
      const finished = tier.pending.finish();
      tier.pending = null;
      this.append(index, finished, done);
    }
    tier.pending ??= new PointAccumulator(bucket);
    tier.pending.add(point);
  }

  private append(index: number, point: HistoryPoint, done: Completed[]): void {
    const tier = this.tiers[index]!;
    tier.ring.push(point);
    tier.ring.dropOlderThan(point.t - tier.spanMs);
    done.push({ tier: index, point });
    this.feed(index + 1, point, done);
  }

  /** Put back points read from the store (oldest first), at start-up. */
  restore(index: number, points: readonly HistoryPoint[]): void {
    const tier = this.tiers[index];
    if (!tier) return;
    for (const p of points) {
      const last = tier.ring.newestT();
      if (last !== undefined && p.t <= last) continue;
      tier.ring.push(p);
    }
    const newest = tier.ring.newestT();
    if (newest !== undefined) tier.ring.dropOlderThan(newest - tier.spanMs);
  }

  tierInfo(): HistoryTierInfo[] {
    return this.tiers.map((t) => ({ resolutionSec: t.spec.resolutionSec, spanSec: t.spec.spanSec, points: t.ring.size, capacity: t.ring.capacity }));
  }

  /** The longest range any tier spans. */
  get maxRangeSec(): number {
    return Math.max(...this.tiers.map((t) => t.spec.spanSec));
  }

  /** The range at the best resolution held: the finest tier whose span covers it. */
  query(rangeSec: number, now: number): HistoryResponse {
    const from = now - rangeSec * 1000;
    let chosen = this.tiers.findIndex((t) => t.spanMs >= rangeSec * 1000);
    if (chosen < 0) chosen = this.tiers.length - 1;
    const tier = this.tiers[chosen]!;
    return {
      now,
      rangeSec,
      resolutionSec: tier.spec.resolutionSec,
      points: tier.ring.since(from),
      tiers: this.tierInfo(),
    };
  }
}
