import { describe, expect, it } from 'vitest';
import { nextInterval, TickLoop, type Collects } from '../../src/collect/loop.js';
import type { Snapshot } from '@netscope/shared';

describe('nextInterval', () => {
  it('keeps the interval while a tick is cheap', () => {
    expect(nextInterval(1000, 100)).toEqual({ effectiveMs: 1000, reason: null });
    expect(nextInterval(1000, 500).effectiveMs).toBe(1000);
  });
  it('stretches and says why when a tick costs more than half the interval', () => {
    const r = nextInterval(1000, 730);
    expect(r.effectiveMs).toBe(1500);
    expect(r.reason).toMatch(/collection took 730 ms.*updating every 1500 ms/);
  });
});

describe('TickLoop', () => {
  it('never overlaps collections, even when a collection outlasts the interval', async () => {
    let active = 0;
    let maxActive = 0;
    let seq = 0;
    const collector: Collects = {
      async collect(effectiveIntervalMs, stretchedReason) {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
        seq++;
        return { seq, collector: { collectMs: 30, effectiveIntervalMs, stretchedReason } } as unknown as Snapshot;
      },
    };
    const loop = new TickLoop(collector, 100);
    const seen: number[] = [];
    loop.onTick((s) => {
      seen.push(s.seq);
    });
    await loop.start();
    await new Promise((r) => setTimeout(r, 400));
    loop.stop();
    expect(maxActive).toBe(1);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(loop.effectiveMs).toBe(100);
  });
});
