import { describe, expect, it } from 'vitest';
import { diffSnapshots, ChangeTracker } from '@netscope/shared';
import { snapshot, tcp } from './fixtures.test-util';

describe('ChangeTracker', () => {
  const a = tcp({ id: 'a' });
  const b = tcp({ id: 'b' });
  const c = tcp({ id: 'c' });
  const s1 = snapshot({ seq: 1, sockets: [a, b] });
  const s2 = snapshot({ seq: 2, sockets: [a, c] });

  it('marks added sockets new and keeps removed ones as ghosts, for holdMs', () => {
    const t = new ChangeTracker(4000);
    t.record(diffSnapshots(s1, s2), s1, 10_000);
    expect(t.isNew('c', 10_000)).toBe(true);
    expect(t.isNew('a', 10_000)).toBe(false);
    expect(t.ghosts().map((g) => g.socket.id)).toEqual(['b']);
    expect(t.isNew('c', 14_000)).toBe(false);
    t.prune(14_001);
    expect(t.ghosts()).toEqual([]);
    expect(t.added.size).toBe(0);
  });

  it('a socket that comes back is no longer a ghost', () => {
    const t = new ChangeTracker();
    t.record(diffSnapshots(s1, s2), s1, 0);
    t.record(diffSnapshots(s2, s1), s2, 1);
    expect(t.removed.has('b')).toBe(false);
    expect(t.isNew('b', 1)).toBe(true);
    expect(t.removed.has('c')).toBe(true);
  });

  it('stays bounded under churn', () => {
    const t = new ChangeTracker(4000, 100, 1000);
    let prev = snapshot({ seq: 0, sockets: [] });
    for (let i = 1; i <= 50; i++) {
      const next = snapshot({ seq: i, sockets: Array.from({ length: 100 }, (_, k) => tcp({ id: `${i}-${k}` })) });
      t.record(diffSnapshots(prev, next), prev, i);
      prev = next;
    }
    expect(t.removed.size).toBeLessThanOrEqual(100);
    expect(t.added.size).toBeLessThanOrEqual(1000);
  });
});
