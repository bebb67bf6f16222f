import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyDelta, diffSnapshots, jsonEqual, SequenceGapError, type Snapshot, type Socket } from '../src/index.js';
import { inet, snapshot, unix } from './fixtures.js';

const byId = (s: Snapshot) => [...s.sockets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

function expectReproduces(a: Snapshot, b: Snapshot): void {
  const d = diffSnapshots(a, b);
  const got = applyDelta(a, d);
  expect(byId(got)).toEqual(byId(b));
  expect({ ...got, sockets: [] }).toEqual({ ...b, sockets: [] });
}

describe('diffSnapshots / applyDelta', () => {
  it('carries only added, removed and changed sockets', () => {
    const a = snapshot(1, { sockets: [inet(1000), inet(1001), inet(1002), unix(5)] });
    const b = snapshot(2, {
      sockets: [inet(1000), inet(1001, { state: 'CLOSE_WAIT', stateCode: 8 }), inet(1003), unix(5)],
    });
    const d = diffSnapshots(a, b);
    expect(d.sockets.added.map((s) => s.id)).toEqual([inet(1003).id]);
    expect(d.sockets.changed.map((s) => s.id)).toEqual([inet(1001).id]);
    expect(d.sockets.removed).toEqual([inet(1002).id]);
    expect(d.baseSeq).toBe(1);
    expect(d.seq).toBe(2);
    expectReproduces(a, b);
  });

  it('sends nothing for sockets and aggregates that did not change', () => {
    const a = snapshot(1, { sockets: [inet(1000), unix(7)] });
    const b = snapshot(2, { sockets: [inet(1000), unix(7)] });
    const d = diffSnapshots(a, b);
    expect(d.sockets).toEqual({ added: [], changed: [], removed: [] });
    expect(d.aggregates).toEqual({});
    expect(d.stats).toBeUndefined();
    expect(d.processes).toBeUndefined();
  });

  it('patches only the stats counters that moved', () => {
    const a = snapshot(1);
    const b = snapshot(2, {
      stats: { counters: { Tcp: { InSegs: 9, CurrEstab: 1 } }, rates: { Tcp: { InSegs: 8, CurrEstab: null } } },
    });
    const d = diffSnapshots(a, b);
    expect(d.stats).toEqual({ counters: { Tcp: { InSegs: 9 } }, rates: { Tcp: { InSegs: 8 } } });
    expect(d.aggregates.stats).toBeUndefined();
    expectReproduces(a, b);
  });

  it('replaces stats whole when a group disappears', () => {
    const a = snapshot(1);
    const b = snapshot(2, { stats: { counters: {}, rates: {} } });
    const d = diffSnapshots(a, b);
    expect(d.aggregates.stats).toEqual({ counters: {}, rates: {} });
    expectReproduces(a, b);
  });

  it('upserts and removes processes by pid', () => {
    const p = (pid: number, n = 1) => ({ pid, program: 'x', cmdline: null, uid: 0, user: 'root', socketCount: n });
    const a = snapshot(1, { processes: { '1': p(1), '2': p(2) } });
    const b = snapshot(2, { processes: { '1': p(1, 3), '3': p(3) } });
    const d = diffSnapshots(a, b);
    expect(Object.keys(d.processes!.set).sort()).toEqual(['1', '3']);
    expect(d.processes!.removed).toEqual(['2']);
    expectReproduces(a, b);
  });

  it('refuses a delta for another seq', () => {
    const a = snapshot(1);
    const b = snapshot(2);
    const c = snapshot(3);
    expect(() => applyDelta(a, diffSnapshots(b, c))).toThrow(SequenceGapError);
  });

  it('does not modify its input', () => {
    const a = snapshot(1, { sockets: [inet(1), inet(2)] });
    const copy = JSON.parse(JSON.stringify(a)) as Snapshot;
    applyDelta(a, diffSnapshots(a, snapshot(2, { sockets: [inet(2), inet(3)] })));
    expect(a).toEqual(copy);
  });

  it('reproduces any next snapshot (property)', () => {
    const sock = fc
      .record({
        port: fc.integer({ min: 1, max: 40 }),
        state: fc.constantFrom('ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT') as fc.Arbitrary<'ESTABLISHED' | 'TIME_WAIT' | 'CLOSE_WAIT'>,
        recvQ: fc.integer({ min: 0, max: 3 }),
        pid: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
      })
      .map((r) => inet(r.port, { state: r.state, recvQ: r.recvQ, pid: r.pid }));
    const sockets = fc.uniqueArray(sock, { selector: (s) => s.id, maxLength: 30 });
    fc.assert(
      fc.property(sockets, sockets, fc.integer({ min: 0, max: 5 }), (s1, s2, segs) => {
        const a = snapshot(1, { sockets: s1 });
        const b = snapshot(2, {
          sockets: s2,
          stats: { counters: { Tcp: { InSegs: segs, CurrEstab: 1 } }, rates: { Tcp: { InSegs: segs, CurrEstab: null } } },
        });
        const got = applyDelta(a, diffSnapshots(a, b));
        return jsonEqual(byId(got), byId(b)) && jsonEqual({ ...got, sockets: [] }, { ...b, sockets: [] });
      }),
      { numRuns: 500 },
    );
  });
});

describe('jsonEqual', () => {
  it('compares structurally', () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});

describe('sameSocket', () => {
  // A field added to the schema but forgotten in sameSocket would silently never stream its changes.
  it('notices a change in every field of an inet and a unix socket', async () => {
    const { sameSocket } = await import('../src/index.js');
    const mutate = (v: unknown): unknown =>
      typeof v === 'number' ? v + 1 : typeof v === 'string' ? v + 'x' : typeof v === 'boolean' ? !v : v === null ? 7 : v;
    const bases: Socket[] = [inet(1, { localService: 'a', remoteService: 'b', otherPids: [9] }), unix(3, { path: '/x' })];
    for (const base of bases) {
      const fields = base as unknown as Record<string, unknown>;
      const variant = (patch: Record<string, unknown>): Socket => ({ ...fields, ...patch }) as unknown as Socket;
      for (const key of Object.keys(fields)) {
        if (key === 'id') continue;
        const value = fields[key];
        if (key === 'timer') {
          const timer = value as Record<string, unknown>;
          for (const tk of Object.keys(timer)) {
            expect(sameSocket(base, variant({ timer: { ...timer, [tk]: mutate(timer[tk]) } })), `timer.${tk}`).toBe(false);
          }
          continue;
        }
        const changed = key === 'otherPids' ? [9, 10] : mutate(value);
        expect(sameSocket(base, variant({ [key]: changed })), key).toBe(false);
      }
    }
  });
});
