import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, DEFAULT_BACKOFF } from './backoff';

const opts = { baseMs: 500, maxMs: 15_000, jitter: 0.5 };

describe('backoff', () => {
  it('doubles up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 100].map((a) => backoffCeiling(a, opts))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  });
  it('jitter stays within [ceiling·(1−jitter), ceiling]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = backoffCeiling(attempt, opts);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(ceiling);
      expect(backoffDelay(attempt, opts, () => 0.999999)).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.5));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling * (1 - opts.jitter)));
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });
  it('spreads clients out (not all the same delay)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, DEFAULT_BACKOFF)));
    expect(delays.size).toBeGreaterThan(10);
  });
  it('clamps odd inputs', () => {
    expect(backoffDelay(-3, opts, () => 0)).toBe(500);
    expect(backoffDelay(2, { ...opts, jitter: 7 }, () => 1)).toBe(0);
    expect(backoffDelay(2, opts, () => 5)).toBe(1000);
  });
});
