import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InodeHolders } from '../../src/procfs/inode-holders.js';
import type { OwnerRef } from '../../src/procfs/owners.js';

/** A Map of holders sorted by (pid, fd): what a walk in pid order gives. */
function reference(adds: readonly [number, number, number][]): Map<number, OwnerRef[]> {
  const m = new Map<number, OwnerRef[]>();
  for (const [inode, pid, fd] of adds) {
    if (inode === 0) continue;
    const list = m.get(inode) ?? [];
    list.push({ pid, fd });
    m.set(inode, list);
  }
  for (const list of m.values()) list.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
  return m;
}

describe('InodeHolders', () => {
  it('answers as a Map of (pid, fd)-sorted holders, whatever order the holders come in', () => {
    // few distinct inodes (shared sockets, collisions), wide ones past u32, and inode 0 (ignored)
    const inode = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 2 ** 32, max: 2 ** 53 - 1 }),
      fc.constantFrom(2 ** 32, 2 ** 32 + 1, 1),
    );
    // a pid's fd holds one socket: unique (pid, fd) pairs
    const adds = fc.uniqueArray(fc.tuple(inode, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 30 })), {
      maxLength: 400,
      selector: ([, pid, fd]) => `${pid}/${fd}`,
    });
    fc.assert(
      fc.property(adds, (list) => {
        const h = new InodeHolders(list.length);
        for (const [i, pid, fd] of list) h.add(i, pid, fd);
        const ref = reference(list);
        expect(h.size).toBe(ref.size);
        for (const [i, holders] of ref) {
          expect(h.has(i)).toBe(true);
          expect(h.get(i)).toEqual(holders);
        }
        for (const probe of [0, 41, 2 ** 32 + 2, 0xfffffffe]) if (!ref.has(probe)) expect(h.get(probe)).toBeUndefined();
        expect(h.toMap()).toEqual(ref);
      }),
      { numRuns: 300 },
    );
  });

  it('takes 200k holders at the size it was made for and refuses one more', () => {
    const h = new InodeHolders(200_000);
    for (let i = 0; i < 200_000; i++) h.add(5_000_000 + (i >> 1), 100 + (i & 1), i);
    expect(h.size).toBe(100_000);
    expect(h.get(5_000_000 + 777)).toEqual([
      { pid: 100, fd: 1554 },
      { pid: 101, fd: 1555 },
    ]);
    expect(() => h.add(9, 1, 1)).toThrow(RangeError);
  });

  it('a fresh index answers nothing', () => {
    const h = new InodeHolders(0);
    expect(h.get(1)).toBeUndefined();
    expect(h.size).toBe(0);
    expect(h.toMap().size).toBe(0);
  });
});
