// The heap growth bound is set once the live heap is large and lifted when it is small again,
// with a gap between the two so a heap near one threshold does not flip it every tick.
import { describe, expect, it } from 'vitest';
import { BOUND_ABOVE_BYTES, GC_AFTER_RELEASE_BYTES, HEAP_GROWING_PERCENT, HeapGrowth, RELEASE_BELOW_BYTES, fullGcNow, heapGrowthGiven } from '../../src/heap.js';

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
