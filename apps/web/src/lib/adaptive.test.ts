import { describe, expect, it } from 'vitest';
import { adaptive } from './adaptive';

describe('adaptive', () => {
  it('recomputes every version while cheap', () => {
    let t = 0;
    let calls = 0;
    const get = adaptive(() => ++calls, { budgetMs: 40, ratio: 8, now: () => t });
    for (let v = 1; v <= 5; v++) {
      t += 1000;
      expect(get(v)).toMatchObject({ value: v, skipped: 0 });
    }
    expect(get(5).value).toBe(5); // same version: cached
    expect(calls).toBe(5);
  });

  it('when costly, skips until ratio × cost has passed, and says so', () => {
    let t = 0;
    let calls = 0;
    const get = adaptive(
      () => {
        calls++;
        t += 200; // costs 200 ms
        return calls;
      },
      { budgetMs: 40, ratio: 8, now: () => t },
    );
    expect(get(1)).toMatchObject({ value: 1, skipped: 0, costMs: 200 });
    t += 1000;
    expect(get(2)).toMatchObject({ value: 1, skipped: 1 });
    t += 500;
    expect(get(3)).toMatchObject({ value: 1, skipped: 2 });
    t += 1000; // 2500 ms since → past 1600
    expect(get(4)).toMatchObject({ value: 2, skipped: 0 });
  });
});
