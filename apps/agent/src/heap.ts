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
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { libcHandle } from './libc.js';

export const HEAP_GROWING_PERCENT = 30;
/** Used heap above which growth is bounded, and below which it is left to V8 again. */
export const BOUND_ABOVE_BYTES = 96 * 2 ** 20;
export const RELEASE_BELOW_BYTES = 48 * 2 ** 20;
/** A message at least this big, once written and let go, is reclaimed by a full GC at once. */
export const GC_AFTER_RELEASE_BYTES = 32 * 2 ** 20;

/** Whether node was given its own heap growth (argv or NODE_OPTIONS). */
export function heapGrowthGiven(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return nodeFlagGiven(/^--heap[-_]growing[-_]percent/, execArgv, nodeOptions);
}

/** Whether node was given its own young generation size or growth (argv or NODE_OPTIONS). */
export function youngGenerationGiven(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return nodeFlagGiven(/^--(?:max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/, execArgv, nodeOptions);
}

export function nodeFlagGiven(flag: RegExp, execArgv: readonly string[], nodeOptions: string): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => flag.test(a));
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

/**
 * The young generation (V8's new space: two semi-spaces). V8 starts each semi-space at 1 MB and
 * doubles it, up to 16 MB, whenever much survives a scavenge, which a tick's sockets and messages
 * do: at 1k pairs the new space reached 32 MB within 6 s of start (`--trace-gc`), about 30 MB of a
 * ~110 MB RSS, against a budget of 80 MB. So while the heap is small the agent holds the new space
 * at YOUNG_HOLD_BYTES (two 2 MB semi-spaces), by setting V8's growth factor to 1 once it has grown
 * that far (V8 reads the factor at each growth; a `--max-semi-space-size` set at run time is
 * ignored). A big heap (100k sockets) lets it grow again: there, a small new space means many more
 * scavenges of a tick's live sockets. A semi-space size or growth given to node wins.
 *
 * V8 grows the new space only at the end of a scavenge, and can double it at each: on a machine
 * with few sockets, where the first ticks are what grew it, every scavenge from the start is
 * watched (a `gc` PerformanceObserver) until the hold is set. A machine with many sockets starts
 * with V8's own growth: at 100k pairs, a first tick run with the held new space promoted much of
 * its garbage, and the ticks after it were slower.
 */
export const WATCH_FROM_START_BELOW_SOCKETS = 20_000;
export const YOUNG_HOLD_BYTES = 4 * 2 ** 20;
/** V8's own semi-space growth factor (node 20 and 22). */
export const V8_SEMI_SPACE_GROWTH = 2;

export class YoungGeneration {
  /** Whether the new space is held now. */
  held = false;
  private observer: PerformanceObserver | null = null;

  constructor(
    private readonly setFlags: (flags: string) => void = setFlagsFromString,
    private readonly newSpaceBytes: () => number = newSpaceSize,
  ) {}

  /** After each tick and each scavenge: the heap's used bytes and the new space's size decide. */
  observe(usedBytes: number = getHeapStatistics().used_heap_size): void {
    if (!this.held && usedBytes < RELEASE_BELOW_BYTES && this.newSpaceBytes() >= YOUNG_HOLD_BYTES) {
      this.setFlags('--semi-space-growth-factor=1');
      this.held = true;
      this.stop(); // held: it cannot grow, so scavenges need no watching
    } else if (this.held && usedBytes > BOUND_ABOVE_BYTES) {
      this.setFlags(`--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH}`);
      this.held = false;
    }
  }

  /** Observe after every scavenge from now on (until the hold is set), as well as after ticks. */
  watchScavenges(): void {
    if (this.observer !== null) return;
    this.observer = new PerformanceObserver((list) => {
      if (list.getEntries().some((e) => (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perf.NODE_PERFORMANCE_GC_MINOR)) this.observe();
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
  }
}

/** Bytes V8 has committed to the new space (both semi-spaces). */
export function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Memory malloc'd outside V8 (zlib for compressed /ws frames, libuv, LevelDB, V8's own threads)
 * and freed stays in glibc's arenas: at 1k pairs 25-30 MB of RSS after 25 s ([heap] plus the other
 * threads' arenas, /proc/<pid>/smaps). glibc gives back only what sits at the top of an arena;
 * malloc_trim(0) gives back every free page. It costs 0.1-1 ms at 1k pairs and 3-6 ms at 100k,
 * plus the page faults when the memory is used again; so after a tick the agent trims at most
 * every TRIM_EVERY_MS, and never sooner than TRIM_COST_SHARE times its last trim's duration
 * (trimming stays under 0.1% of the time). At 1k pairs, trimming every 5 s gave 80-83 MB RSS at
 * the end of a 40 s window and every second 75-80 MB (three runs each). Not on a libc without
 * malloc_trim (musl), nor without koffi.
 */
export const TRIM_EVERY_MS = 1_000;
export const TRIM_COST_SHARE = 1_000;

export class NativeHeap {
  private nextTrimAt = -Infinity;
  /** Trims done, and the time they took (for /api/health). */
  trims = 0;
  trimMs = 0;

  constructor(
    private readonly trim: (() => void) | null = loadMallocTrim(),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this libc can trim. */
  get available(): boolean {
    return this.trim !== null;
  }

  /** After each tick. */
  afterTick(): void {
    const started = this.now();
    if (this.trim === null || started < this.nextTrimAt) return;
    this.trim();
    const took = this.now() - started;
    this.trims++;
    this.trimMs += took;
    this.nextTrimAt = started + Math.max(TRIM_EVERY_MS, took * TRIM_COST_SHARE);
  }
}

/** glibc's malloc_trim(0) through koffi, or null where there is none. */
export function loadMallocTrim(): (() => void) | null {
  const h = libcHandle();
  if (h instanceof Error) return null;
  try {
    const trim = h.lib.func('int malloc_trim(size_t)');
    return () => void trim(0);
  } catch {
    return null;
  }
}
