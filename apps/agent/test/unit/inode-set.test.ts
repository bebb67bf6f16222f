import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InodeSet } from '../../src/collect/inode-set.js';

describe('InodeSet', () => {
  it('behaves as a Set<number> of u32 inodes across clears and growth', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 0xffffffff }), { maxLength: 300 }), { maxLength: 6 }), (ticks) => {
        const set = new InodeSet(4);
        for (const inodes of ticks) {
          set.clear();
          const ref = new Set<number>();
          for (const x of inodes) expect(set.add(x)).toBe(!ref.has(x) && ref.add(x) !== undefined);
          expect([...set].length).toBe(ref.size);
          expect([...set]).toEqual([...ref]); // insertion order
          for (const x of inodes) expect(set.has(x)).toBe(true);
          for (const x of [1, 2, 0xfffffffe, 12345]) expect(set.has(x)).toBe(ref.has(x));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('forgets everything on clear, also after 200k sequential inodes', () => {
    const set = new InodeSet();
    for (let i = 1; i <= 200_000; i++) set.add(5_000_000 + i);
    expect(set.size).toBe(200_000);
    expect(set.has(5_100_000)).toBe(true);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has(5_100_000)).toBe(false);
    expect([...set]).toEqual([]);
    expect(set.add(5_100_000)).toBe(true);
    expect(set.add(5_100_000)).toBe(false);
  });

  it('keeps inodes past u32 apart from their low 32 bits', () => {
    const set = new InodeSet();
    const big = 2 ** 32 + 7;
    expect(set.add(7)).toBe(true);
    expect(set.add(big)).toBe(true);
    expect(set.add(big)).toBe(false);
    expect(set.has(big) && set.has(7)).toBe(true);
    expect(set.has(2 ** 33 + 7)).toBe(false);
    expect([...set]).toEqual([7, big]);
  });
});
