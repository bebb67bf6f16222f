import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyDelta,
  applyJsonPatch,
  diffJson,
  diffSnapshots,
  jsonEqual,
  SequenceGapError,
  type DeltaMessage,
  type Snapshot,
  type Socket,
} from '../src/index.js';
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

/** What a client gets: the delta after a trip through JSON (undefined members gone). */
const wire = (d: DeltaMessage): DeltaMessage => JSON.parse(JSON.stringify(d)) as DeltaMessage;
const asJson = (s: Snapshot): unknown => JSON.parse(JSON.stringify({ ...s, sockets: byId(s) }));

const source = (ms: number) => ({ state: 'ok' as const, path: '/proc/net/tcp', message: null, badLines: 0, sample: null, ms });

describe('aggregates as patches (aggregates=patch)', () => {
  it('carries only the members that changed, and nothing in aggregates', () => {
    const a = snapshot(1, { sources: { tcp: source(1.5), udp: source(0.5) } });
    const b = snapshot(2, {
      sources: { tcp: source(1.75), udp: source(0.5) },
      collector: { ...a.collector, collectMs: 7 },
    });
    const d = diffSnapshots(a, b, 'patch');
    expect(d.aggregates).toEqual({});
    expect(d.aggregatesPatch).toEqual({
      patch: { collector: { set: { collectMs: 7 } }, sources: { patch: { tcp: { set: { ms: 1.75 } } } } },
    });
    expect(asJson(applyDelta(a, wire(d)))).toEqual(asJson(b));
  });

  it('is absent when no section changed; sockets, processes and stats travel as in the whole form', () => {
    const a = snapshot(1, { sockets: [inet(1), inet(2)] });
    const b = snapshot(2, {
      sockets: [inet(2, { recvQ: 5 }), inet(3)],
      stats: { counters: { Tcp: { InSegs: 2, CurrEstab: 1 } }, rates: { Tcp: { InSegs: 1, CurrEstab: null } } },
    });
    const whole = diffSnapshots(a, b);
    const patched = diffSnapshots(a, b, 'patch');
    expect(patched.aggregatesPatch).toBeUndefined();
    expect({ ...patched, aggregatesPatch: undefined }).toEqual({ ...whole, aggregatesPatch: undefined });
  });

  it('patches array elements by index and replaces an array whose length changed', () => {
    const nic = (name: string, rxBytes: number) => ({ ...snapshot(0).interfaces[0], ...iface(name, rxBytes) });
    const a = snapshot(1, { interfaces: [nic('lo', 1), nic('eth0', 2)], routes: [] });
    const b = snapshot(2, { interfaces: [nic('lo', 1), nic('eth0', 9)], routes: [route('10.0.0.0')] });
    const d = diffSnapshots(a, b, 'patch');
    expect(d.aggregatesPatch?.patch?.interfaces).toEqual({ patch: { '1': { patch: { counters: { set: { rxBytes: 9 } } } } } });
    expect(d.aggregatesPatch?.set?.routes).toEqual([route('10.0.0.0')]);
    expect(asJson(applyDelta(a, wire(d)))).toEqual(asJson(b));
  });

  it('unsets a section that went away (the whole form cannot say it) and sets one that appeared', () => {
    const a = snapshot(1, { alerts: [] });
    const b = snapshot(2, { services: [] });
    const d = wire(diffSnapshots(a, b, 'patch'));
    expect(d.aggregatesPatch).toEqual({ set: { services: [] }, unset: ['alerts'] });
    const got = applyDelta(a, d);
    expect('alerts' in got).toBe(false);
    expect(asJson(got)).toEqual(asJson(b));
  });

  it('refuses a patch that does not fit the snapshot held (the client resyncs)', () => {
    const a = snapshot(1, { sources: { tcp: source(1) } });
    const base = { ...diffSnapshots(a, snapshot(2)), aggregates: {} };
    expect(() => applyDelta(a, { ...base, aggregatesPatch: { set: { sockets: [] } } })).toThrow(/not an aggregate section/);
    expect(() => applyDelta(a, { ...base, aggregatesPatch: { patch: { routes: { set: { '3': 1 } } } } })).toThrow(/outside an array/);
    expect(() => applyDelta(a, { ...base, aggregatesPatch: { patch: { conntrack: { set: { total: 1 } } } } })).toThrow(/not an object or array/);
    expect(() => applyDelta(a, { ...base, aggregatesPatch: { patch: { routes: { unset: ['0'] } } } })).toThrow(/unsets members of an array/);
  });

  it('reproduces any next snapshot through JSON, sections changing at random (property)', () => {
    const ms = fc.double({ min: 0, max: 100, noNaN: true });
    const sources = fc.dictionary(fc.constantFrom('tcp', 'udp', 'unix', 'dev'), ms.map(source), { maxKeys: 4 });
    const nics = fc.array(fc.tuple(fc.constantFrom('lo', 'eth0'), fc.integer({ min: 0, max: 3 })), { maxLength: 3 });
    const alerts = fc.option(fc.constant(null).map((): Snapshot['alerts'] => []), { nil: undefined });
    const snap = (seq: number) =>
      fc.record({ sources, nics, alerts, uptime: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }) }).map((r) => {
        const s = snapshot(seq, {
          sources: r.sources,
          interfaces: r.nics.map(([name, rx]) => ({ ...snapshot(0).interfaces[0], ...iface(name, rx) })),
          host: { hostname: 'h', kernel: '6.1.0', uptimeSec: r.uptime },
        });
        if (r.alerts) s.alerts = r.alerts;
        return s;
      });
    fc.assert(
      fc.property(snap(1), snap(2), (a, b) => jsonEqual(asJson(applyDelta(a, wire(diffSnapshots(a, b, 'patch')))), asJson(b))),
      { numRuns: 500 },
    );
  });
});

function iface(name: string, rxBytes: number) {
  const counters = {
    rxBytes, rxPackets: 0, rxErrs: 0, rxDrop: 0, rxFifo: 0, rxFrame: 0, rxCompressed: 0, rxMulticast: 0,
    txBytes: 0, txPackets: 0, txErrs: 0, txDrop: 0, txFifo: 0, txColls: 0, txCarrier: 0, txCompressed: 0,
  };
  const rates = Object.fromEntries(Object.keys(counters).map((k) => [`${k}PerSec`, null])) as Snapshot['interfaces'][number]['rates'];
  return { name, mtu: 1500, flags: 'BRU', flagsRaw: 0, operstate: 'up', speedMbps: null, mac: null, addresses: [], counters, rates };
}

function route(destination: string): Snapshot['routes'][number] {
  return {
    family: 4, iface: 'eth0', destination, prefixLen: 8, genmask: '255.0.0.0', gateway: '0.0.0.0', source: null,
    sourcePrefixLen: null, flags: 'U', flagsRaw: 1, metric: 0, refCount: 0, use: 0, mss: 0, window: 0, irtt: 0, isDefault: false,
  };
}

describe('diffJson / applyJsonPatch', () => {
  const leaf = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(null, 'x', true), fc.constant(undefined));
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.dictionary(fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor'), tie('value'), { maxKeys: 4 }),
      fc.array(tie('value'), { maxLength: 3 }),
    ),
  }));
  const container = fc.oneof(
    fc.dictionary(fc.constantFrom('a', 'b', 'c', '__proto__'), value, { maxKeys: 4 }),
    fc.array(value, { minLength: 2, maxLength: 2 }),
  );
  const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

  it('applying the diff of two values gives the second, as JSON (property)', () => {
    fc.assert(
      fc.property(container, container, (a, b) => {
        if (Array.isArray(a) !== Array.isArray(b)) return true;
        const p = diffJson(a as Record<string, unknown>, b as Record<string, unknown>);
        if (p === null) return jsonEqual(json(a), json(b));
        const got = applyJsonPatch(json(a), json(p) as typeof p);
        return jsonEqual(json(got), json(b)) && Object.getPrototypeOf(got) === Object.getPrototypeOf(json(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a "__proto__" member an own property and does not modify its input', () => {
    const a = JSON.parse('{"x":{"y":1}}') as Record<string, unknown>;
    const b = JSON.parse('{"x":{"y":2},"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const p = diffJson(a, b)!;
    const got = applyJsonPatch(a, JSON.parse(JSON.stringify(p)) as typeof p) as Record<string, unknown>;
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(got)).toBe(JSON.stringify({ x: { y: 2 }, ...b }));
    expect(a).toEqual({ x: { y: 1 } });
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
