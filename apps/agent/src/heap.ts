/**
 * How far V8's old generation may grow between full GCs. By default it grows to ~2-4× what
 * survived the last full GC. A running agent's garbage is mostly last tick's sockets, diffs and
 * messages: at 100k pairs ~150 MB live let the heap reach 400-700 MB between full GCs, and 30%
 * kept RSS near 400 MB for ~15% more tick time. On a small heap there is nothing to win (1k
 * sockets: ~15 MB live, RSS ~100 MB of which ~40 MB is node itself), and at 1k pairs
 * (`node bench/footprint.mjs --pairs 1000`, 60 s) runs with and without the bound were within
 * the noise of each other (3.0-3.7% CPU, 97-119 MB RSS). So the bound is set once the live heap
 * is large, and lifted when it is small again. A `--heap-growing-percent` given to node wins.
 *
 * V8 applies a new growth only when it next sizes the heap, at the end of a full GC. At 100k pairs
 * that came ~10 s after start, at 240 MB used, while the first dashboard snapshot (80 MB) was still
 * held: VmHWM 467-713 MB in three starts with one client (`/proc/<pid>/status` every 250 ms). One
 * full GC when the bound is set (86 ms, once, right after the 2 s first tick) sizes the heap at
 * once: 410-412 MB in three starts.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const HEAP_GROWING_PERCENT = 30;
/** Used heap above which growth is bounded, and below which it is left to V8 again. */
export const BOUND_ABOVE_BYTES = 96 * 2 ** 20;
export const RELEASE_BELOW_BYTES = 48 * 2 ** 20;
/** A message at least this big, once written and let go, is reclaimed by a full GC at once. */
export const GC_AFTER_RELEASE_BYTES = 32 * 2 ** 20;

/** Whether node was given its own heap growth (argv or NODE_OPTIONS). */
export function heapGrowthGiven(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent/.test(a));
}

export class HeapGrowth {
  /** Whether the bound is set now. */
  bounded = false;

  constructor(
    private readonly setFlags: (flags: string) => void = setFlagsFromString,
    private readonly fullGc: () => void = fullGcNow,
  ) {}

  /** After each tick: the heap's used bytes decide. */
  observe(usedBytes: number = getHeapStatistics().used_heap_size): void {
    if (!this.bounded && usedBytes > BOUND_ABOVE_BYTES) {
      this.setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      this.bounded = true;
      this.fullGc();
    } else if (this.bounded && usedBytes < RELEASE_BELOW_BYTES) {
      // 0 is V8's own default: its dynamic growth factor
      this.setFlags('--heap-growing-percent=0');
      this.bounded = false;
    }
  }

  /**
   * A message of `bytes` is no longer held (stream.ts: a snapshot written to every client it went
   * to). Serialising 80 MB at 200k sockets spans GCs, so its Buffer sits in the old generation and
   * its memory comes back only at the next full GC: under 1% churn/s at 100k pairs that was ~30 s
   * later, with the next tick's sockets and delta on top (VmHWM 477 MB; the 80 MB stayed until
   * 71 s). One full GC (~90 ms) for each such snapshot: sent when a dashboard connects or resyncs.
   */
  released(bytes: number): void {
    if (bytes >= GC_AFTER_RELEASE_BYTES) this.fullGc();
  }
}

let gc: (() => void) | null = null;
/** One full GC, through V8's own `gc` (exposed in a fresh context only: not on our globalThis). */
export function fullGcNow(): void {
  if (gc === null) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
