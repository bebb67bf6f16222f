/** History tiers: downsampling, bounds after 48 simulated hours, queries; the store across a restart. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseSockets, type HistoryPoint, type Snapshot } from '@netscope/shared';
import { unix } from '../../../../packages/shared/test/fixtures.js';
import { DEFAULT_TIERS, History, Ring } from '../../src/history/history.js';
import { PointAccumulator, pointFromSnapshot } from '../../src/history/point.js';
import { HistoryStore, defaultDataDir } from '../../src/history/store.js';
import { Monitor } from '../../src/alerts/monitor.js';
import { at, cfg, conns, iface, T0 } from '../alerts/synthetic.js';

const tmp = mkdtempSync(join(tmpdir(), 'netscope-history-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function point(t: number, established: number, rate: number | null = 10): HistoryPoint {
  return {
    t,
    n: 1,
    states: { ESTABLISHED: established },
    totals: { tcp: established, udp: 1, raw: 0, unix: 3, sockets: established + 4 },
    ifaces: { eth0: { rxBytesPerSec: rate, txBytesPerSec: 1, rxPacketsPerSec: 1, txPacketsPerSec: 1, errsPerSec: 0, dropsPerSec: 0 } },
    counters: { 'Tcp.InSegs': rate },
    alerts: established > 100 ? 1 : 0,
  };
}

describe('points', () => {
  it('a snapshot becomes TCP state counts, totals, interface rates and key counter rates', () => {
    const snap = at(0, {
      sockets: [...conns(3, 'ESTABLISHED'), ...conns(2, 'NEW_SYN_RECV'), ...conns(1, 'ESTABLISHED', '192.0.2.1', 53, { proto: 'udp' })],
      interfaces: [iface('eth0', 0), iface('lo', 0)],
      stats: { counters: {}, rates: { Tcp: { InSegs: 12.5, RetransSegs: null }, TcpExt: { ListenDrops: 0 } } },
    });
    const p = pointFromSnapshot(snap, 2);
    expect(p.states).toEqual({ ESTABLISHED: 3, SYN_RECV: 2 });
    expect(p.totals).toEqual({ tcp: 5, udp: 1, raw: 0, unix: 0, sockets: 6 });
    expect(p.ifaces.eth0).toEqual({ rxBytesPerSec: 1000, txBytesPerSec: 500, rxPacketsPerSec: 10, txPacketsPerSec: 5, errsPerSec: 0, dropsPerSec: 0 });
    expect(p.counters).toEqual({ 'Tcp.InSegs': 12.5, 'Tcp.RetransSegs': null, 'TcpExt.ListenDrops': 0 });
    expect(p.alerts).toBe(2);
  });

  it('with the tick\'s socketSummary attached, the counts come from it and equal a pass over the sockets', () => {
    const states = ['ESTABLISHED', 'TIME_WAIT', 'NEW_SYN_RECV', 'SYN_RECV', 'CLOSE_WAIT', 'LISTEN'] as const;
    const protos = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'] as const;
    const sockets: Snapshot['sockets'] = [];
    for (let i = 0; i < 600; i++) sockets.push(...conns(1, states[i % states.length]!, '203.0.113.7', 443, { proto: protos[(i * 7) % protos.length]! }));
    sockets.push(unix(1), unix(2));
    const base = at(0, { sockets, interfaces: [iface('eth0', 0)] });
    const counted = pointFromSnapshot(base, 0);
    const summary = summariseSockets(sockets);
    // a summary that says something else is what gets recorded: proof the pass was skipped
    const fromSummary = pointFromSnapshot({ ...base, socketSummary: summary }, 0);
    expect(fromSummary).toEqual(counted);
    const lying = { ...summary, byProto: { ...summary.byProto, unix: 99 } };
    expect(pointFromSnapshot({ ...base, socketSummary: lying }, 0).totals.unix).toBe(99);
    // a summary of another socket list (its total differs) is not trusted
    expect(pointFromSnapshot({ ...base, socketSummary: { ...lying, total: 3 } }, 0)).toEqual(counted);
  });

  it('downsampling is the weighted mean; null rates are left out of the mean; alerts is the maximum', () => {
    const acc = new PointAccumulator(0);
    acc.add(point(0, 10, null));
    acc.add(point(1000, 20, 30));
    acc.add({ ...point(2000, 30, 60), n: 2 });
    const p = acc.finish();
    expect(p.n).toBe(4);
    expect(p.states.ESTABLISHED).toBe((10 + 20 + 60) / 4);
    expect(p.ifaces.eth0!.rxBytesPerSec).toBe((30 + 120) / 3);
    expect(p.counters['Tcp.InSegs']).toBe(50);
    const allNull = new PointAccumulator(0);
    allNull.add(point(0, 1, null));
    expect(allNull.finish().counters['Tcp.InSegs']).toBeNull();
  });
});

describe('tiers', () => {
  it('ring keeps the newest `capacity` points in order', () => {
    const r = new Ring(3);
    for (let i = 0; i < 5; i++) r.push(point(i, i));
    expect([r.at(0).t, r.at(1).t, r.at(2).t]).toEqual([2, 3, 4]);
    expect(r.since(3).map((p) => p.t)).toEqual([3, 4]);
  });

  it('48 simulated hours of 1 s ticks stay within every tier capacity, each tier spanning what it promises', () => {
    const h = new History();
    const seconds = 48 * 3600;
    for (let s = 0; s < seconds; s++) h.record(point(T0 + s * 1000, s % 300));
    const info = h.tierInfo();
    expect(info.map((t) => [t.resolutionSec, t.capacity])).toEqual([
      [1, 3600],
      [10, 2160],
      [60, 2880],
    ]);
    for (const t of info) expect(t.points).toBeLessThanOrEqual(t.capacity);
    const now = T0 + seconds * 1000;
    // 1 h at 1 s, 6 h at 10 s, 24 h (and the full 48 h) at 60 s.
    const hour = h.query(3600, now);
    expect(hour.resolutionSec).toBe(1);
    expect(hour.points.length).toBeGreaterThanOrEqual(3598);
    const six = h.query(6 * 3600, now);
    expect(six.resolutionSec).toBe(10);
    expect(six.points.length).toBeGreaterThanOrEqual(2158);
    const day = h.query(24 * 3600, now);
    expect(day.resolutionSec).toBe(60);
    expect(day.points.length).toBeGreaterThanOrEqual(24 * 60 - 2);
    expect(h.query(48 * 3600, now).points.length).toBeGreaterThanOrEqual(48 * 60 - 2);
    // A 60 s point is the mean of its 60 seconds: the sawtooth s % 300 over 60 aligned seconds.
    const p = day.points[day.points.length - 1]!;
    expect(p.n).toBe(60);
    // Oldest first, strictly increasing, aligned to the resolution.
    for (let i = 1; i < day.points.length; i++) expect(day.points[i]!.t - day.points[i - 1]!.t).toBe(60_000);
  });

  it('ticks faster than 1 s are averaged into 1 s points; ticks slower than a tier keep their own times', () => {
    const h = new History();
    for (let i = 0; i < 50; i++) h.record(point(T0 + i * 200, i));
    const pts = h.query(60, T0 + 10_000).points;
    expect(pts).toHaveLength(9); // 10 s of 200 ms ticks, the last second still open
    expect(pts.every((p) => p.n === 5)).toBe(true);
    expect(pts[0]!.states.ESTABLISHED).toBe(2); // mean of 0..4
  });

  it('memory stays bounded: heap after 48 h of simulated ticks is within a few MB of heap after 2 h', () => {
    const h = new History();
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = (): number => {
      gc?.();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers; // points keep their numbers in typed arrays
    };
    const run = (from: number, to: number) => {
      for (let s = from; s < to; s++) h.record(point(T0 + s * 1000, s % 500));
    };
    run(0, 2 * 3600);
    const early = heap();
    run(2 * 3600, 48 * 3600);
    const late = heap();
    // Tier 1 and 2 grow after 2 h (6 h and 48 h spans), tier 0 is full: at most the two coarse tiers' worth.
    const total = h.tierInfo().reduce((n, t) => n + t.points, 0);
    expect(total).toBeLessThanOrEqual(3600 + 2160 + 2880);
    // Packed points: about 0.5 KB each here, so 5000 more points ≈ 2.5 MB (slack for a GC-less run).
    expect(late - early).toBeLessThan(20 * 1024 * 1024);
  }, 60_000);
});

describe('store', () => {
  it('defaults to $XDG_STATE_HOME/netscope or ~/.local/state/netscope, never a relative path', () => {
    expect(defaultDataDir({ XDG_STATE_HOME: '/var/state' }, '/home/u')).toBe('/var/state/netscope');
    expect(defaultDataDir({}, '/home/u')).toBe('/home/u/.local/state/netscope');
    expect(defaultDataDir({ XDG_STATE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.local/state/netscope');
  });

  it('round trip: points and alert events written before close are read back after reopening', async () => {
    const dir = join(tmp, 'roundtrip');
    const s1 = await HistoryStore.open(dir);
    for (let i = 0; i < 100; i++) s1.putPoint(0, point(T0 + i * 1000, i));
    s1.putPoint(2, point(T0, 7));
    await s1.close();
    expect(statSync(join(dir, 'store')).mode & 0o777).toBe(0o700);
    const s2 = await HistoryStore.open(dir);
    const pts = await s2.loadPoints(0, T0 + 50_000);
    expect(pts.map((p) => p.states.ESTABLISHED)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    expect(await s2.loadPoints(2, 0)).toHaveLength(1);
    await s2.prunePoints(0, T0 + 90_000);
    expect(await s2.loadPoints(0, 0)).toHaveLength(10);
    await s2.close();
  });

  it('a second agent on the same data dir gets a clear error', async () => {
    const dir = join(tmp, 'locked');
    const s1 = await HistoryStore.open(dir);
    await expect(HistoryStore.open(dir)).rejects.toThrow(`data dir ${dir} is in use by another netscope agent`);
    await s1.close();
  });

  it('a monitor restarted on the same data dir has its history, its alert log and its active alerts back', async () => {
    const dir = join(tmp, 'restart');
    const alerts = cfg({ established: { threshold: 5, raiseAfterSec: 0, clearAfterSec: 0 }, perRemote: { enabled: false } });
    // Live clock here (the store restores points younger than each tier's span from Date.now()).
    const start = Date.now() - 120_000;
    const m1 = await Monitor.create(null, { alerts, dataDir: dir, hostname: 'h' });
    for (let s = 0; s < 100; s++) {
      const snap = at(0, { sockets: conns(s < 30 || s >= 60 ? 10 : 0, 'ESTABLISHED') });
      snap.time = start + s * 1000;
      m1.observe(snap);
    }
    const before = m1.historyResponse(3600, start + 100_000);
    const log1 = m1.engine.response();
    expect(log1.log.map((e) => e.kind)).toEqual(['raised', 'cleared', 'raised']);
    expect(log1.active).toHaveLength(1);
    await m1.close();

    const m2 = await Monitor.create(null, { alerts, dataDir: dir, hostname: 'h' });
    const after = m2.historyResponse(3600, start + 100_000);
    expect(after.points.length).toBe(before.points.length);
    expect(after.points).toEqual(before.points);
    const log2 = m2.engine.response();
    expect(log2.log).toEqual(log1.log);
    expect(log2.active.map((a) => a.id)).toEqual(log1.active.map((a) => a.id));
    // Still above the threshold after the restart: not raised a second time.
    const snap = at(0, { sockets: conns(10, 'ESTABLISHED') });
    snap.time = start + 101_000;
    m2.observe(snap);
    expect(m2.engine.response().log).toHaveLength(3);
    expect(m2.effectiveConfig().history).toMatchObject({ dataDir: dir, persisted: true, storeError: null, store: { flushErrors: 0 } });
    await m2.close();
  });

  it('a store that cannot be opened leaves history in memory, said in /api/config', async () => {
    const warnings: string[] = [];
    const blocker = join(tmp, 'file-not-dir');
    (await import('node:fs')).writeFileSync(blocker, 'x');
    const m = await Monitor.create(null, { alerts: cfg(), dataDir: blocker, hostname: 'h', warn: (w) => warnings.push(w) });
    m.observe(at(0));
    expect(m.effectiveConfig().history.persisted).toBe(false);
    expect(m.effectiveConfig().history.storeError).toMatch(/cannot create data dir/);
    expect(warnings[0]).toMatch(/kept in memory only/);
    await m.close();
  });
});

describe('tier defaults', () => {
  it('are 1 s for 1 h, 10 s for 6 h, 60 s for 48 h', () => {
    expect(DEFAULT_TIERS).toEqual([
      { resolutionSec: 1, spanSec: 3600 },
      { resolutionSec: 10, spanSec: 21600 },
      { resolutionSec: 60, spanSec: 172800 },
    ]);
  });
});

describe('packed points', () => {
  it('round-trip through the compact form (Float32, null as NaN, 3 decimals)', async () => {
    const { pack, unpack } = await import('../../src/history/packed.js');
    const p: HistoryPoint = {
      ...point(T0, 123),
      states: { ESTABLISHED: 123.25, TIME_WAIT: 1000.5 },
      ifaces: { eth0: { rxBytesPerSec: 1234567.125, txBytesPerSec: null, rxPacketsPerSec: 0.1, txPacketsPerSec: 3, errsPerSec: 0, dropsPerSec: null } },
      counters: { 'Tcp.InSegs': null, 'TcpExt.ListenDrops': 0.333 },
    };
    const q = unpack(pack(p));
    expect(q).toEqual(p);
    // Two points with the same names share one layout.
    expect(pack(p).layout).toBe(pack({ ...p, t: T0 + 1000 }).layout);
  });
});

describe('watched services across a restart', () => {
  it('a service down before the restart is still "down since" the same time after it', async () => {
    const dir = join(tmp, 'services');
    const alerts = cfg({ serviceDown: { raiseAfterSec: 0 } }, [{ port: 22, proto: 'tcp', program: null, name: null }]);
    const start = Date.now() - 60_000;
    const m1 = await Monitor.create(null, { alerts, dataDir: dir, hostname: 'h' });
    const s1 = at(0);
    s1.time = start;
    m1.observe(s1);
    expect(m1.engine.services[0]).toMatchObject({ up: false, since: start, sinceAgentStart: true });
    await m1.close();
    const m2 = await Monitor.create(null, { alerts, dataDir: dir, hostname: 'h' });
    const s2 = at(0);
    s2.time = start + 30_000;
    m2.observe(s2);
    expect(m2.engine.services[0]).toMatchObject({ up: false, since: start });
    expect(m2.engine.response().log.map((e) => e.kind)).toEqual(['raised']); // not raised again
    await m2.close();
  });
});
