import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { diffSnapshots, type DeltaMessage, type Snapshot } from '@netscope/shared';
import {
  deltaTextNow,
  diffSliced,
  estimateArrayBytes,
  serialiseDelta,
  serialiseDeltaForms,
  serialiseSnapshot,
  serialiseSnapshotBody,
  type FormKey,
} from '../../src/server/stream.js';
import { inet, snapshot } from '../../../../packages/shared/test/fixtures.js';
import { socketChanges } from '../../src/server/socket-diff.js';
import { Slice } from '../../src/yield.js';
import { turnsDuring } from '../helpers/turns.js';

const sockets = Array.from({ length: 12_345 }, (_, i) => ({
  id: `tcp #${i}`,
  path: i % 7 === 0 ? `/run/$&$'$\`-"quoted"-\\-${i}-netscope-slice-x-0` : null,
  n: i,
}));

describe('sliced serialisation of big messages', () => {
  it('a snapshot message equals JSON.stringify of it, whatever the strings hold', async () => {
    const snap = { version: 1, seq: 42, time: 1, sockets, processes: { '1': { pid: 1, program: '"x"' } } } as unknown as Snapshot;
    const text = (await serialiseSnapshot(snap)).toString('utf8');
    expect(text).toBe(JSON.stringify({ type: 'snapshot', v: 1, seq: 42, snapshot: snap }));
    expect(JSON.parse(text)).toEqual({ type: 'snapshot', v: 1, seq: 42, snapshot: snap });
  });

  it('a delta message is JSON.stringify of it, byte for byte, empty arrays included', async () => {
    const delta = {
      type: 'delta',
      v: 1,
      seq: 2,
      baseSeq: 1,
      time: 1,
      sockets: { added: sockets, changed: [], removed: ['a', 'b'] },
      aggregates: {},
    } as unknown as DeltaMessage;
    const text = (await serialiseDelta(delta)).toString('utf8');
    expect(text).toBe(JSON.stringify(delta));
    expect(JSON.parse(text)).toEqual(delta);
  });

  it('sizes the message from a sample: one buffer at most 20% bigger than the message, no copy', async () => {
    const allocated: number[] = [];
    const alloc = Buffer.allocUnsafe;
    // (small allocations are other code running between slices)
    const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((n: number) => {
      if (n >= 64 * 1024) allocated.push(n);
      return alloc(n);
    });
    try {
      const snap = { version: 1, seq: 42, time: 1, sockets, processes: {} } as unknown as Snapshot;
      const bytes = await serialiseSnapshot(snap);
      expect(bytes.toString('utf8')).toBe(JSON.stringify({ type: 'snapshot', v: 1, seq: 42, snapshot: snap }));
      expect(allocated).toHaveLength(1);
      expect(allocated[0]).toBeGreaterThanOrEqual(bytes.length);
      expect(allocated[0]).toBeLessThan(bytes.length * 1.2);
      expect(bytes.buffer.byteLength).toBe(allocated[0]); // a view of it, not a copy
      // a delta of removed ids (~50 B each) is not sized at a socket's ~400 B
      allocated.length = 0;
      const ids = Array.from({ length: 20_000 }, (_, i) => `tcp 127.0.0.1:${i} 127.0.0.1:5000 #${1_000_000 + i}`);
      const delta = { type: 'delta', v: 1, seq: 2, baseSeq: 1, time: 1, sockets: { added: [], changed: [], removed: ids } } as unknown as DeltaMessage;
      const d = await serialiseDelta(delta);
      expect(d.toString('utf8')).toBe(JSON.stringify(delta));
      expect(allocated).toHaveLength(1);
      expect(allocated[0]).toBeLessThan(d.length * 1.2);
      expect(d.buffer.byteLength).toBe(allocated[0]);
    } finally {
      spy.mockRestore();
    }
  });

  it('an array whose sample is unlike the rest still comes out whole (the buffer grows)', async () => {
    // 25600 items sampled at every 100th: those are short, the others ~1 KB
    const skewed = Array.from({ length: 25_600 }, (_, i) => (i % 100 === 0 ? { i } : { i, pad: 'x'.repeat(1000) }));
    expect(estimateArrayBytes(skewed)).toBeLessThan(1_000_000);
    const snap = { seq: 3, sockets: skewed } as unknown as Snapshot;
    const bytes = await serialiseSnapshot(snap);
    expect(bytes.toString('utf8')).toBe(JSON.stringify({ type: 'snapshot', v: 1, seq: 3, snapshot: snap }));
  });

  it('estimateArrayBytes is within 15% of the JSON for varied items (every 7th of `sockets` is long), and exact for empty ones', () => {
    for (const items of [sockets, sockets.slice(0, 10), [{ a: 'é€😀' }], [null, 1, 'x']]) {
      const real = Buffer.byteLength(JSON.stringify(items));
      const est = estimateArrayBytes(items);
      expect(est).toBeGreaterThanOrEqual(real * 0.85);
      expect(est).toBeLessThanOrEqual(real * 1.15 + 4);
    }
    expect(estimateArrayBytes([])).toBe(2);
  });

  it('yields to the event loop between slices', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const snap = { seq: 1, sockets: Array.from({ length: 50_000 }, (_, i) => ({ i })) } as unknown as Snapshot;
    await serialiseSnapshot(snap);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('sliced by the clock', () => {
  it('a snapshot of slow-to-serialise items yields well before 5000 of them', async () => {
    // 1024 items of ~0.1 ms each (~100 ms), the clock read every 256: a turn at each of those 3
    // reads (25 ms apart, over the 15 ms slice) and one after the array
    const slow = Array.from({ length: 1024 }, (_, i) => ({
      toJSON() {
        const until = performance.now() + 0.1;
        while (performance.now() < until);
        return { i };
      },
    }));
    const { result, turns } = await turnsDuring(() => serialiseSnapshot({ seq: 1, sockets: slow } as unknown as Snapshot));
    expect(JSON.parse(result.toString()).snapshot.sockets).toHaveLength(1024);
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it('socketChanges gives turns within its lists and the same changes', async () => {
    const prev = Array.from({ length: 3000 }, (_, i) => inet(i + 1));
    const next = Array.from({ length: 3000 }, (_, i) => inet(i + 1001, i % 5 === 0 ? { recvQ: 1 } : {}));
    const quick = await socketChanges(prev, next, new Slice(60_000));
    const { result, turns } = await turnsDuring(() => socketChanges(prev, next, new Slice(0)));
    expect(result).toEqual(quick);
    expect(quick.added.length + quick.changed.length + quick.removed.length).toBeGreaterThan(1000);
    // a check every 256 sockets over ~6000 map operations, each due with a 0 ms slice
    expect(turns).toBeGreaterThanOrEqual(15);
  });
});

describe('sliced diff', () => {
  it('equals diffSnapshots on random socket churn (fast-check)', async () => {
    const ports = fc.uniqueArray(fc.integer({ min: 1, max: 60_000 }), { maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(ports, ports, fc.nat(), async (a, b, salt) => {
        const prev = snapshot(1, { sockets: a.map((p) => inet(p)) });
        const next = snapshot(2, {
          sockets: b.map((p, i) => inet(p, (i + salt) % 3 === 0 ? { recvQ: salt % 7 } : {})),
          time: 2,
        });
        expect(await diffSliced(prev, next)).toEqual(diffSnapshots(prev, next));
      }),
      { numRuns: 300 },
    );
  });

  it('equals diffSnapshots when next shares objects with prev, shifted by insertions and removals (fast-check)', async () => {
    // the collector's shape: unchanged sockets are last tick's very objects, mostly in the same order
    const pool = Array.from({ length: 200 }, (_, i) => inet(i + 1));
    const edit = fc.record({ at: fc.nat(199), kind: fc.constantFrom('drop', 'insert', 'change', 'swap') });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { maxLength: 30 }), async (edits) => {
        const prevSockets = pool.slice(0, 120);
        const nextSockets = [...prevSockets];
        for (const e of edits) {
          const k = e.at % Math.max(1, nextSockets.length);
          if (e.kind === 'drop') nextSockets.splice(k, 1);
          else if (e.kind === 'insert') nextSockets.splice(k, 0, pool[120 + (e.at % 80)]!);
          else if (e.kind === 'change' && nextSockets[k]) nextSockets[k] = { ...nextSockets[k]!, recvQ: e.at };
          else if (nextSockets.length > k + 1) [nextSockets[k], nextSockets[k + 1]] = [nextSockets[k + 1]!, nextSockets[k]!];
        }
        // ids stay unique: a socket inserted twice keeps its first place only
        const seen = new Set<string>();
        const unique = nextSockets.filter((x) => !seen.has(x.id) && seen.add(x.id) !== undefined);
        const prev = snapshot(1, { sockets: prevSockets });
        const next = snapshot(2, { sockets: unique, time: 2 });
        expect(await diffSliced(prev, next)).toEqual(diffSnapshots(prev, next));
      }),
      { numRuns: 500 },
    );
    const prev = snapshot(1, { sockets: pool });
    const same = await diffSliced(prev, snapshot(2, { sockets: pool, time: 2 }));
    expect(same.sockets).toEqual({ added: [], changed: [], removed: [] });
  });

  it('equals diffSnapshots across slice boundaries', async () => {
    const prev = snapshot(1, { sockets: Array.from({ length: 12_000 }, (_, i) => inet(i + 1)) });
    const next = snapshot(2, {
      sockets: Array.from({ length: 12_000 }, (_, i) => inet(i + 500, i % 10 === 0 ? { sendQ: 9 } : {})),
    });
    const sliced = await diffSliced(prev, next);
    expect(sliced).toEqual(diffSnapshots(prev, next));
    expect(sliced.sockets.added.length).toBe(499);
    expect(sliced.sockets.removed.length).toBe(499);
  });
});

describe('the /api/snapshot body', () => {
  it('equals JSON.stringify of the snapshot', async () => {
    const snap = snapshot(7, { sockets: Array.from({ length: 6000 }, (_, i) => inet(i + 1)) });
    expect((await serialiseSnapshotBody(snap)).toString('utf8')).toBe(JSON.stringify(snap));
    // multi-byte characters split across no slice boundary: bytes, not UTF-16 units
    const named = snapshot(8, { sockets: Array.from({ length: 6000 }, (_, i) => inet(i + 1, { program: i % 2 ? 'naïve-✓' : null })) });
    expect((await serialiseSnapshotBody(named)).toString('utf8')).toBe(JSON.stringify(named));
    expect(JSON.parse((await serialiseSnapshotBody({ ...snap, sockets: [] })).toString('utf8'))).toEqual({ ...snap, sockets: [] });
  });
});

describe('one tick, every view and form', () => {
  const prev = snapshot(1, { sockets: Array.from({ length: 7000 }, (_, i) => inet(i + 1)), sources: {} });
  const next = snapshot(2, {
    sockets: Array.from({ length: 7000 }, (_, i) => inet(i + 300, i % 9 === 0 ? { sendQ: 4 } : {})),
    collector: { ...prev.collector, collectMs: 9 },
    alerts: [],
  });
  const forms: FormKey[] = ['full/whole', 'full/patch', 'summary/whole', 'summary/patch'];
  const noSockets = (s: typeof prev) => ({ ...s, sockets: [] });

  it('each text is the delta diffSnapshots makes for that form; the summary one has no socket changes', async () => {
    const texts = await serialiseDeltaForms(prev, next, new Set(forms));
    expect([...texts.keys()].sort()).toEqual([...forms].sort());
    expect(JSON.parse(texts.get('full/whole')!.toString())).toEqual(JSON.parse(JSON.stringify(diffSnapshots(prev, next))));
    expect(JSON.parse(texts.get('full/patch')!.toString())).toEqual(JSON.parse(JSON.stringify(diffSnapshots(prev, next, 'patch'))));
    const summary = JSON.parse(texts.get('summary/patch')!.toString()) as DeltaMessage;
    expect(summary.sockets).toEqual({ added: [], changed: [], removed: [] });
    expect(summary).toEqual(JSON.parse(JSON.stringify(diffSnapshots(noSockets(prev), noSockets(next), 'patch'))));
    expect(summary.aggregatesPatch).toEqual({ patch: { collector: { set: { collectMs: 9 } } }, set: { alerts: [] } });
    expect(JSON.parse(texts.get('summary/whole')!.toString())).toEqual(JSON.parse(JSON.stringify(diffSnapshots(noSockets(prev), noSockets(next)))));
    for (const key of forms) {
      const [view, form] = key.split('/') as ['full' | 'summary', 'whole' | 'patch'];
      expect(JSON.parse(deltaTextNow(prev, next, view, form)), key).toEqual(JSON.parse(texts.get(key)!.toString()));
    }
  });

  it('makes only the texts asked for', async () => {
    const texts = await serialiseDeltaForms(prev, next, new Set<FormKey>(['summary/whole']));
    expect([...texts.keys()]).toEqual(['summary/whole']);
  });
});
