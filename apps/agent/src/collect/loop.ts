/**
 * The tick loop: collects one snapshot per interval, never overlapping itself. A tick that costs
 * more than STRETCH_SHARE of the interval stretches the interval (and the snapshot says so), so a
 * slow machine degrades to slower updates instead of a collector that never rests.
 */
import type { Snapshot } from '@netscope/shared';
import { yieldToLoop } from '../yield.js';

export const STRETCH_SHARE = 0.5;

export interface Collects {
  collect(effectiveIntervalMs: number, stretchedReason: string | null): Promise<Snapshot>;
}

/** May return a promise (e.g. work sliced to keep the event loop free); the next tick waits for it. */
export type TickListener = (next: Snapshot, prev: Snapshot | null) => void | Promise<void>;

/** Pure: the interval to use after a tick that took `collectMs`. */
export function nextInterval(intervalMs: number, collectMs: number): { effectiveMs: number; reason: string | null } {
  if (collectMs <= intervalMs * STRETCH_SHARE) return { effectiveMs: intervalMs, reason: null };
  const effectiveMs = Math.ceil(collectMs / STRETCH_SHARE / 100) * 100;
  return {
    effectiveMs,
    reason: `collection took ${Math.round(collectMs)} ms, more than ${STRETCH_SHARE * 100}% of the ${intervalMs} ms interval: updating every ${effectiveMs} ms`,
  };
}

export class TickLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private listeners = new Set<TickListener>();
  current: Snapshot | null = null;
  effectiveMs: number;
  stretchedReason: string | null = null;
  lastError: string | null = null;

  constructor(
    private readonly collector: Collects,
    private readonly intervalMs: number,
  ) {
    this.effectiveMs = intervalMs;
  }

  onTick(listener: TickListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Collect once now (used at start-up before listening), then keep ticking. */
  async start(): Promise<Snapshot> {
    const first = await this.tick();
    if (first === null) throw new Error(`the first collection failed: ${this.lastError ?? 'unknown error'}`);
    this.schedule(first);
    return first;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(last: Snapshot | null): void {
    if (this.stopped) return;
    const cost = last?.collector.collectMs ?? 0;
    const delay = Math.max(0, this.effectiveMs - cost);
    this.timer = setTimeout(() => {
      void this.tick().then((s) => this.schedule(s));
    }, delay);
  }

  private async tick(): Promise<Snapshot | null> {
    if (this.running) return null; // never overlap
    this.running = true;
    try {
      const snap = await this.collector.collect(this.effectiveMs, this.stretchedReason);
      const paced = nextInterval(this.intervalMs, snap.collector.collectMs);
      this.effectiveMs = paced.effectiveMs;
      this.stretchedReason = paced.reason;
      const prev = this.current;
      this.current = snap;
      this.lastError = null;
      // Let HTTP requests queued during the collection run before the tick is published.
      await yieldToLoop();
      for (const l of this.listeners) await l(snap, prev);
      return snap;
    } catch (err) {
      // The collector degrades per source; reaching here is a bug. Say it once per distinct message.
      const message = (err as Error).stack ?? String(err);
      if (message !== this.lastError) console.error(`netscope: collection failed: ${message}`);
      this.lastError = message;
      return null;
    } finally {
      this.running = false;
    }
  }
}
