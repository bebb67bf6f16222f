import { describe, expect, it } from 'vitest';
import { Slice } from '../../src/yield.js';
import { turnsDuring } from '../helpers/turns.js';

describe('Slice.each', () => {
  it('visits every item in order and reads the clock every 256 items', async () => {
    const seen: number[] = [];
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const { turns } = await turnsDuring(() => new Slice(0).each(items, (i) => seen.push(i)));
    expect(seen).toEqual(items);
    // due at every read with a 0 ms slice: after items 255, 511 and 767
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('does not yield while the slice is not due', async () => {
    const { turns } = await turnsDuring(() => new Slice(60_000).each(new Array(10_000).fill(0), () => {}));
    expect(turns).toBe(0);
  });
});
