// The heap growth bound is set once the live heap is large and lifted when it is small again,
// with a gap between the two so a heap near one threshold does not flip it every tick.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  BOUND_ABOVE_BYTES,
  GC_AFTER_RELEASE_BYTES,
  HEAP_GROWING_PERCENT,
  HeapGrowth,
  NativeHeap,
  RELEASE_BELOW_BYTES,
  TRIM_COST_SHARE,
  TRIM_EVERY_MS,
  V8_SEMI_SPACE_GROWTH,
  YOUNG_HOLD_BYTES,
  YoungGeneration,
  fullGcNow,
  heapGrowthGiven,
  loadMallocTrim,
  youngGenerationGiven,
} from '../../src/heap.js';

const MB = 2 ** 20;

describe('HeapGrowth', () => {
  it('bounds growth above the high mark, lifts it below the low mark, and leaves it alone between', () => {
    const set: string[] = [];
    let gcs = 0;
    const g = new HeapGrowth(
      (f) => set.push(f),
      () => gcs++,
    );
    g.observe(15 * MB); // 1k sockets
    expect(set).toEqual([]);
    expect(gcs).toBe(0);
    g.observe(BOUND_ABOVE_BYTES + 1); // 100k sockets
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(gcs).toBe(1); // V8 applies the growth at its next full GC: one now
    for (const used of [200 * MB, 70 * MB, RELEASE_BELOW_BYTES + 1, 150 * MB]) g.observe(used);
    expect(set.length).toBe(1);
    expect(gcs).toBe(1);
    expect(g.bounded).toBe(true);
    g.observe(RELEASE_BELOW_BYTES - 1);
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--heap-growing-percent=0']);
    expect(g.bounded).toBe(false);
    expect(gcs).toBe(1);
    g.observe(80 * MB);
    expect(set.length).toBe(2);
    g.observe(BOUND_ABOVE_BYTES + 1);
    expect(gcs).toBe(2);
  });

  it('a big message let go is reclaimed by one full GC; a small one is left to V8', () => {
    let gcs = 0;
    const g = new HeapGrowth(
      () => {},
      () => gcs++,
    );
    g.released(GC_AFTER_RELEASE_BYTES - 1);
    expect(gcs).toBe(0);
    g.released(GC_AFTER_RELEASE_BYTES);
    g.released(80 * MB);
    expect(gcs).toBe(2);
  });

  it('fullGcNow collects what nothing holds, without putting gc on globalThis', async () => {
    let held: object | null = { big: new Array(100_000).fill(1) };
    const ref = new WeakRef(held);
    held = null;
    // a WeakRef keeps its target to the end of the current job
    await new Promise((r) => setTimeout(r, 0));
    fullGcNow();
    expect(ref.deref()).toBeUndefined();
    expect('gc' in globalThis).toBe(false);
  });

  it('a growth given to node on its command line or in NODE_OPTIONS is noticed', () => {
    expect(heapGrowthGiven(['--heap-growing-percent=50'], '')).toBe(true);
    expect(heapGrowthGiven([], '--max-old-space-size=512 --heap_growing_percent=10')).toBe(true);
    expect(heapGrowthGiven(['--cpu-prof'], '--max-old-space-size=512')).toBe(false);
  });
});

describe('YoungGeneration', () => {
  it('holds the new space once it reached the hold size on a small heap, and lets it grow on a big one', () => {
    const set: string[] = [];
    let newSpace = 2 * MB;
    const y = new YoungGeneration(
      (f) => set.push(f),
      () => newSpace,
    );
    y.observe(15 * MB); // still at V8's first size: let it grow to the hold size
    expect(set).toEqual([]);
    newSpace = YOUNG_HOLD_BYTES;
    y.observe(15 * MB);
    expect(set).toEqual(['--semi-space-growth-factor=1']);
    expect(y.held).toBe(true);
    for (const used of [15 * MB, 70 * MB, BOUND_ABOVE_BYTES]) y.observe(used);
    expect(set.length).toBe(1);
    y.observe(BOUND_ABOVE_BYTES + 1); // 100k sockets: V8's own growth again
    expect(set).toEqual(['--semi-space-growth-factor=1', `--semi-space-growth-factor=${V8_SEMI_SPACE_GROWTH}`]);
    expect(y.held).toBe(false);
    newSpace = 32 * MB;
    y.observe(70 * MB); // between the marks: left as it is
    expect(set.length).toBe(2);
    y.observe(RELEASE_BELOW_BYTES - 1); // small again: held where it is
    expect(set.length).toBe(3);
    expect(y.held).toBe(true);
  });

  /** Allocate until `done()` or 5 s, letting observers run between rounds (they are told between tasks). */
  async function scavengeUntil(done: () => boolean, rounds = Infinity): Promise<void> {
    const deadline = Date.now() + 5_000;
    let junk: unknown[] = [];
    for (let r = 0; r < rounds && !done() && Date.now() < deadline; r++) {
      for (let i = 0; i < 50_000; i++) junk.push({ i });
      junk = [];
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  it('watches scavenges until the hold is set: a minor GC makes it look at the new space', async () => {
    let looked = 0;
    let newSpace = 0;
    const set: string[] = [];
    const y = new YoungGeneration(
      (f) => set.push(f),
      () => {
        looked++;
        return newSpace;
      },
    );
    y.watchScavenges();
    try {
      await scavengeUntil(() => looked > 0);
      expect(looked).toBeGreaterThan(0);
      expect(set).toEqual([]);
      newSpace = YOUNG_HOLD_BYTES; // V8 grew it: the next scavenge sets the hold
      const before = looked;
      await scavengeUntil(() => y.held);
      expect(set).toEqual(['--semi-space-growth-factor=1']);
      expect(looked).toBeGreaterThan(before);
      const atHold = looked;
      await scavengeUntil(() => false, 30); // held: no more watching
      expect(looked).toBe(atHold);
    } finally {
      y.stop();
    }
  });

  it('a semi-space size or growth given to node is noticed', () => {
    expect(youngGenerationGiven(['--max-semi-space-size=8'], '')).toBe(true);
    expect(youngGenerationGiven([], '--semi_space_growth_factor=4')).toBe(true);
    expect(youngGenerationGiven([], '--min-semi-space-size=1')).toBe(true);
    expect(youngGenerationGiven(['--heap-growing-percent=30'], '--max-old-space-size=512')).toBe(false);
  });
});

describe('NativeHeap', () => {
  it('trims after a tick at most every TRIM_EVERY_MS, and less often when a trim is slow', () => {
    let now = 0;
    let cost = 0.5; // ms a trim takes
    const h = new NativeHeap(
      () => (now += cost),
      () => now,
    );
    h.afterTick();
    expect(h.trims).toBe(1);
    now = TRIM_EVERY_MS - 1;
    h.afterTick();
    expect(h.trims).toBe(1);
    now = TRIM_EVERY_MS;
    cost = 5; // 100k pairs: the next one waits 5 s
    h.afterTick();
    expect(h.trims).toBe(2);
    expect(h.trimMs).toBeCloseTo(5.5);
    now = TRIM_EVERY_MS + 5 * TRIM_COST_SHARE - 1;
    h.afterTick();
    expect(h.trims).toBe(2);
    now = TRIM_EVERY_MS + 5 * TRIM_COST_SHARE;
    h.afterTick();
    expect(h.trims).toBe(3);
  });

  it('does nothing where there is no malloc_trim', () => {
    const h = new NativeHeap(null);
    expect(h.available).toBe(false);
    h.afterTick();
    expect(h.trims).toBe(0);
  });

  it("gives back freed malloc memory that glibc itself keeps (this machine's libc)", () => {
    const trim = loadMallocTrim();
    expect(trim).not.toBeNull(); // glibc on Debian, koffi installed
    const anonMB = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
    // 64 MB in 32 KiB backing stores (malloc'd, below glibc's mmap threshold); the last one stays
    // held, so the freed ones below it are not at the arena's top and glibc keeps them.
    let blocks: Uint8Array[] | null = Array.from({ length: 2000 }, () => new Uint8Array(32 * 1024).fill(1));
    const last = blocks.at(-1)!;
    blocks = null;
    fullGcNow();
    fullGcNow();
    const before = anonMB();
    trim!();
    const after = anonMB();
    expect(last.length).toBe(32 * 1024);
    expect(before - after).toBeGreaterThan(32);
  });
});

