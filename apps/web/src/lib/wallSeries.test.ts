import { describe, expect, it } from 'vitest';
import { gapThreshold, SeriesSet, statesOfPoint } from './wallSeries';

const v = (a: number | null, b: number | null = null) => ({ a, b });

describe('SeriesSet', () => {
  it('appends one point per step, folding faster ticks into the last (max)', () => {
    const s = new SeriesSet(['a', 'b'] as const, 60_000, 1000);
    s.append(0, v(1));
    s.append(250, v(5));
    s.append(500, v(2));
    s.append(1000, v(3));
    expect(s.data.a).toEqual([
      { x: 500, y: 5 },
      { x: 1000, y: 3 },
    ]);
    expect(s.newest).toBe(1000);
  });
  it('ignores ticks older than the newest', () => {
    const s = new SeriesSet(['a'] as const, 60_000, 1000);
    s.append(5000, { a: 1 });
    s.append(4000, { a: 9 });
    s.append(5000, { a: 9 });
    expect(s.data.a).toEqual([{ x: 5000, y: 1 }]);
  });
  it('is bounded by the window and by capacity, however long it runs', () => {
    const s = new SeriesSet(['a'] as const, 10_000, 1000, 8);
    for (let t = 0; t < 100_000; t += 250) s.append(t, { a: t });
    expect(s.length).toBeLessThanOrEqual(8);
    expect(s.data.a[0]!.x).toBeGreaterThanOrEqual(s.newest! - 10_000);
    const w = new SeriesSet(['a'] as const, 5000, 1000, 1000);
    for (let t = 0; t < 100_000; t += 1000) w.append(t, { a: 1 });
    expect(w.length).toBe(6);
  });
  it('loads history in place, keeping live points newer than it (the request was in flight)', () => {
    const s = new SeriesSet(['a', 'b'] as const, 3_600_000, 1000);
    const arr = s.data.a;
    s.append(10_000, v(7, 1));
    s.append(11_000, v(8, 1));
    s.load([{ t: 8000 }, { t: 9000 }, { t: 10_000 }, { t: 9500 }], (p) => v(p.t / 1000, null));
    expect(s.data.a).toBe(arr); // same array: a chart holding it sees the change
    expect(s.data.a.map((p) => p.x)).toEqual([8000, 9000, 10_000, 11_000]);
    expect(s.data.a.map((p) => p.y)).toEqual([8, 9, 10, 8]);
    expect(s.newest).toBe(11_000);
    s.append(11_500, v(99));
    expect(s.data.a.at(-1)).toEqual({ x: 11_500, y: 99 });
  });
  it('after a gap, a reload fills it and live points continue', () => {
    const s = new SeriesSet(['a'] as const, 3_600_000, 1000);
    for (let t = 0; t <= 5000; t += 1000) s.append(t, { a: 1 });
    // disconnected from 5 s to 60 s; the agent's history covers it
    const hist = Array.from({ length: 61 }, (_, i) => ({ t: i * 1000 }));
    s.load(hist, () => ({ a: 2 }));
    expect(s.length).toBe(61);
    s.append(61_000, { a: 3 });
    expect(s.length).toBe(62);
  });
  it('breaks the line where the agent was away, in history and live', () => {
    const s = new SeriesSet(['a'] as const, 3_600_000, 1000);
    // 1 s points, then nothing for 50 minutes (agent stopped), then 1 s points again
    const hist = [0, 1000, 2000, 3000, 3_003_000, 3_004_000].map((t) => ({ t }));
    s.load(hist, () => ({ a: 5 }));
    expect(s.data.a.map((p) => p.y)).toEqual([5, 5, 5, 5, null, 5, 5]);
    expect(s.data.a[4]!.x).toBe(3001);
    s.append(3_005_000, { a: 6 }); // an ordinary tick: no break
    s.append(3_200_000, { a: 7 }); // three minutes later: a break before it
    expect(s.data.a.slice(-3).map((p) => p.y)).toEqual([6, null, 7]);
  });
  it('gapThreshold follows the usual spacing of the points', () => {
    expect(gapThreshold([{ t: 0 }, { t: 60_000 }, { t: 120_000 }, { t: 180_000 }], 1000)).toBe(180_000);
    // a stretched interval (20 s ticks) is slow data, not an outage
    expect(gapThreshold([{ t: 0 }, { t: 1000 }, { t: 21_000 }], 1000)).toBe(60_000);
    expect(gapThreshold([], 1000)).toBe(60_000);
  });
  it('empty history keeps the live points', () => {
    const s = new SeriesSet(['a'] as const);
    s.append(1000, { a: 1 });
    s.load([], () => ({ a: 0 }));
    expect(s.data.a).toEqual([{ x: 1000, y: 1 }]);
    s.clear();
    expect(s.length).toBe(0);
    expect(s.newest).toBeNull();
  });
});

describe('statesOfPoint', () => {
  it('absent states are 0; NEW_SYN_RECV counts as SYN_RECV', () => {
    expect(statesOfPoint({ states: { ESTABLISHED: 4, NEW_SYN_RECV: 2, SYN_RECV: 1 } })).toEqual({ ESTABLISHED: 4, TIME_WAIT: 0, CLOSE_WAIT: 0, SYN_RECV: 3 });
  });
});
