// The sock_diag socket cache: an unchanged dump gives last tick's very objects (TIME_WAIT too, whose
// timer runs), a changed record gives a new object equal to a cold build's.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { InetSocket } from '@netscope/shared';
import { describe, expect, it } from 'vitest';
import { DiagTableCache } from '../../src/collect/diag-cache.js';
import { turnsDuring } from '../helpers/turns.js';

const dump = new Uint8Array(readFileSync(new URL('../fixtures/netlink/loopback.tcp.bin', import.meta.url)));
const names = { users: new Map([[0, 'root']]), services: new Map() };

async function build(cache: DiagTableCache, batch: Uint8Array, now: number, prevTimers: Map<string, number>) {
  const timers = new Map<string, number>();
  const r = await cache.build([batch], now, names, null, prevTimers, timers, 1);
  if (!r.ok) throw new Error(r.message);
  return { ...r, timers };
}

describe('DiagTableCache', () => {
  it('an unchanged dump reuses every object, timers included; a changed record is rebuilt', async () => {
    const cache = new DiagTableCache('tcp');
    const t0 = 1_800_000_000_000;
    const first = await build(cache, dump, t0, new Map());
    expect(first.sockets.length).toBe(9);
    const tw = first.sockets.find((s) => s.state === 'TIME_WAIT')!;
    expect(tw.timer.kind).toBe('timewait');

    const second = await build(cache, dump, t0 + 500, first.timers); // the same expires 0.5 s later: within the jitter allowed
    expect(second.sockets.every((s, i) => s === first.sockets[i])).toBe(true);
    expect(second.reused).toBe(9);

    // one record's receive queue moves: that socket alone is a new object, equal to a cold build's
    const changed = dump.slice();
    const view = new DataView(changed.buffer);
    const firstEstablished = first.sockets.findIndex((s) => s.state === 'ESTABLISHED');
    let off = 0; // records carry attributes: walk their lengths to the one we want
    for (let k = 0; k < firstEstablished; k++) off += (view.getUint32(off, true) + 3) & ~3;
    view.setUint32(off + 72, 1234, true); // idiag_rqueue
    const third = await build(cache, changed, t0, second.timers);
    const cold = await build(new DiagTableCache('tcp'), changed, t0, second.timers);
    expect(third.sockets).toEqual(cold.sockets);
    third.sockets.forEach((s, i) => expect(s === second.sockets[i]).toBe(i !== firstEstablished));
    expect(third.sockets[firstEstablished]!.recvQ).toBe(1234);
  });

  it('a timer estimate that jumps is a change (the object is not reused)', async () => {
    const cache = new DiagTableCache('tcp');
    const first = await build(cache, dump, 1_800_000_000_000, new Map());
    const later = await build(cache, dump, 1_800_000_100_000, new Map()); // no earlier estimate: expiresAt moves 100 s
    const i = first.sockets.findIndex((s) => s.state === 'TIME_WAIT');
    expect(later.sockets[i]).not.toBe(first.sockets[i]);
    expect(later.sockets[i]!.timer.expiresAt).toBe(first.sockets[i]!.timer.expiresAt! + 100_000);
  });
});

describe('DiagTableCache, sockets whose timer runs', () => {
  /** The dump with its first ESTABLISHED record given a keepalive timer (code 2) of `expiresMs`. */
  function withKeepalive(expiresMs: number): { bytes: Uint8Array; inode: number } {
    const bytes = dump.slice();
    const view = new DataView(bytes.buffer);
    let off = 0;
    for (;;) {
      if (bytes[off + 17] === 1) break; // TCP_ESTABLISHED
      off += (view.getUint32(off, true) + 3) & ~3;
    }
    bytes[off + 18] = 2; // idiag_timer: keepalive
    view.setUint32(off + 68, expiresMs, true); // idiag_expires
    return { bytes, inode: view.getUint32(off + 84, true) };
  }
  const ownedBy = (inode: number, pid: number) => ({
    byInode: new Map([[inode, [{ pid, fd: 7 }]]]),
    programOf: (p: number) => `prog${p}`,
  });
  async function buildWith(cache: DiagTableCache, batch: Uint8Array, now: number, prevTimers: Map<string, number>, owners: ReturnType<typeof ownedBy>) {
    const timers = new Map<string, number>();
    const r = await cache.build([batch], now, names, owners, prevTimers, timers, -1);
    if (!r.ok) throw new Error(r.message);
    return { ...r, timers };
  }

  it('an estimate within the jitter keeps the object; at the jitter it is rebuilt, as a cold build gives it', async () => {
    const t0 = 1_800_000_000_000;
    const { bytes: a, inode } = withKeepalive(60_000);
    const owners = ownedBy(inode, 10);
    const cache = new DiagTableCache('tcp');
    const first = await buildWith(cache, a, t0, new Map(), owners);
    const i = first.sockets.findIndex((s) => s.inode === inode);
    expect(first.sockets[i]!.timer).toMatchObject({ kind: 'keepalive', expiresAt: t0 + 60_000 });
    // 0.999 s later the kernel says 60 s again (the keepalive was re-armed): within TIMER_JITTER_MS
    const near = await buildWith(cache, a, t0 + 999, first.timers, owners);
    expect(near.sockets[i]).toBe(first.sockets[i]);
    expect(near.timers.get(first.sockets[i]!.id)).toBe(t0 + 60_000);
    const far = await buildWith(cache, a, t0 + 1000, near.timers, owners);
    expect(far.sockets[i]).not.toBe(first.sockets[i]);
    const cold = await buildWith(new DiagTableCache('tcp'), a, t0 + 1000, near.timers, owners);
    expect(far.sockets).toEqual(cold.sockets);
    expect(far.sockets[i]!.timer.expiresAt).toBe(t0 + 61_000);
  });

  it('an unchanged record whose owner changed is rebuilt with the new owner', async () => {
    const t0 = 1_800_000_000_000;
    const { bytes: a, inode } = withKeepalive(60_000);
    const cache = new DiagTableCache('tcp');
    const first = await buildWith(cache, a, t0, new Map(), ownedBy(inode, 10));
    const i = first.sockets.findIndex((s) => s.inode === inode);
    expect(first.sockets[i]).toMatchObject({ pid: 10, program: 'prog10', fd: 7 });
    const moved = await buildWith(cache, a, t0 + 500, first.timers, ownedBy(inode, 20));
    expect(moved.sockets[i]).not.toBe(first.sockets[i]);
    expect(moved.sockets[i]).toMatchObject({ pid: 20, program: 'prog20', fd: 7, timer: { expiresAt: t0 + 60_000 } });
  });
});

describe('DiagTableCache in one big batch', () => {
  /** The fixture's records `copies` times over in one batch (each copy's inodes and cookies moved so every socket is its own), then NLMSG_DONE. */
  function bigBatch(copies: number): Uint8Array {
    const view = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
    let off = 0;
    while (view.getUint16(off + 4, true) !== 3) off += (view.getUint32(off, true) + 3) & ~3; // NLMSG_DONE
    const records = dump.subarray(0, off);
    const done = dump.subarray(off, off + ((view.getUint32(off, true) + 3) & ~3));
    const out = new Uint8Array(records.length * copies + done.length);
    const ov = new DataView(out.buffer);
    for (let c = 0; c < copies; c++) {
      out.set(records, c * records.length);
      for (let at = c * records.length; at < (c + 1) * records.length; at += (ov.getUint32(at, true) + 3) & ~3) {
        ov.setUint32(at + 84, ov.getUint32(at + 84, true) + c * 100_000, true); // idiag_inode
        ov.setUint32(at + 60, c, true); // idiag_cookie[0]
      }
    }
    out.set(done, records.length * copies);
    return out;
  }

  it('gives the event loop turns within a batch, and the same sockets as without', async () => {
    const batch = bigBatch(400); // 3600 records
    const now = 1_800_000_000_000;
    const whole = await build(new DiagTableCache('tcp', 60_000), batch, now, new Map());
    expect(whole.sockets.length).toBe(3600);
    expect(new Set(whole.sockets.map((s) => s.id)).size).toBe(3600);
    for (const retain of [true, false]) {
      const { result, turns } = await turnsDuring(() => build(new DiagTableCache('tcp', 0, retain), batch, now, new Map()));
      expect(result.sockets).toEqual(whole.sockets);
      // a clock check every 256 records, each due with a 0 ms slice: ~14 turns (one, after the batch, before)
      expect(turns).toBeGreaterThanOrEqual(10);
    }
  });

  /** The records of a batch (each a copy), and a batch made of records again. */
  function recordsOf(batch: Uint8Array): Uint8Array[] {
    const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    const out: Uint8Array[] = [];
    for (let off = 0; v.getUint16(off + 4, true) !== 3; off += (v.getUint32(off, true) + 3) & ~3) {
      out.push(batch.slice(off, off + ((v.getUint32(off, true) + 3) & ~3)));
    }
    return out;
  }
  const doneMessage = (() => {
    const b = bigBatch(1);
    const v = new DataView(b.buffer);
    let off = 0;
    while (v.getUint16(off + 4, true) !== 3) off += (v.getUint32(off, true) + 3) & ~3;
    return b.slice(off);
  })();
  function batchOf(records: readonly Uint8Array[]): Uint8Array {
    const out = new Uint8Array(records.reduce((a, r) => a + r.length, 0) + doneMessage.length);
    let at = 0;
    for (const r of records) {
      out.set(r, at);
      at += r.length;
    }
    out.set(doneMessage, at);
    return out;
  }
  const inodeOf = (r: Uint8Array): number => new DataView(r.buffer, r.byteOffset).getUint32(84, true);

  type Op =
    | { kind: 'rqueue' | 'drop' | 'dup' | 'swap' | 'owner'; at: number; value: number }
    | { kind: 'versionsUnknown'; at: number; value: number };
  const op = fc.record({
    kind: fc.constantFrom('rqueue', 'drop', 'dup', 'swap', 'owner', 'versionsUnknown'),
    at: fc.nat(10_000),
    value: fc.integer({ min: 1, max: 5000 }),
  }) as fc.Arbitrary<Op>;

  it('runs of unchanged records (compared as bytes) give what a cold build gives, whatever changed around them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { maxLength: 6 }), { minLength: 1, maxLength: 8 }), async (ticks) => {
        let records = recordsOf(bigBatch(40)); // 360 records, TIME_WAIT (a running timer) among them
        let added = 0;
        const byInode = new Map<number, { pid: number; fd: number }[]>();
        records.forEach((r, i) => {
          if (i % 3 !== 0) byInode.set(inodeOf(r), [{ pid: 100 + (i % 7), fd: i }]);
        });
        const owners = { byInode, programOf: (pid: number) => `prog${pid}` };
        let holdersVersion = 1;
        const cache = new DiagTableCache('tcp');
        const now0 = 1_800_000_000_000;
        let prevTimers = new Map<string, number>();
        let prev: InetSocket[] | null = null;
        for (const [t, ops] of [[], ...ticks].entries()) {
          let versionsKnown = true;
          for (const o of ops) {
            const k = o.at % records.length;
            if (o.kind === 'rqueue') {
              const r = records[k]!.slice();
              new DataView(r.buffer).setUint32(72, o.value, true); // idiag_rqueue
              records[k] = r;
            } else if (o.kind === 'drop' && records.length > 1) records.splice(k, 1);
            else if (o.kind === 'dup') {
              const r = records[k]!.slice();
              const v = new DataView(r.buffer);
              added++;
              v.setUint32(64, added, true); // idiag_cookie[1]: a socket of its own
              v.setUint32(84, inodeOf(r) + added * 1_000_000, true);
              records.splice(k + 1, 0, r);
            } else if (o.kind === 'swap' && k + 1 < records.length) {
              [records[k], records[k + 1]] = [records[k + 1]!, records[k]!];
            } else if (o.kind === 'owner') {
              // a holder list is replaced, never edited (as OwnerCache does it)
              byInode.set(inodeOf(records[k]!), [{ pid: 200 + (o.value % 5), fd: o.value }]);
              holdersVersion++;
            } else if (o.kind === 'versionsUnknown') versionsKnown = false;
          }
          records = [...records];
          const batch = batchOf(records);
          const now = now0 + t * 1000;
          const timers = new Map<string, number>();
          const r = await cache.build([batch.slice()], now, names, owners, prevTimers, timers, versionsKnown ? 1 : -1, versionsKnown ? holdersVersion : -1);
          const cold = await new DiagTableCache('tcp').build([batch.slice()], now, names, owners, prevTimers, new Map(), 1, holdersVersion);
          if (!r.ok || !cold.ok) throw new Error('build failed');
          expect(r.sockets).toEqual(cold.sockets);
          if (prev !== null && ops.length === 0) {
            // nothing changed: every socket whose timer is off is last tick's object, most of them
            // taken in runs (a running timer's estimate moves on with the clock: tested above)
            expect(r.sockets.every((s, i) => s.timer.code !== 0 || s === prev![i])).toBe(true);
            if (versionsKnown) expect(cache.lastRunRecords).toBeGreaterThan(r.sockets.length / 2);
          }
          prev = r.sockets;
          prevTimers = timers;
        }
      }),
      { numRuns: 60 },
    );
  });

  it('running timers count down with the clock, give or take: the same sockets as a cold build, the others last tick\'s', async () => {
    const timerOf = (r: Uint8Array): number => r[18]!; // idiag_timer
    const base = recordsOf(bigBatch(40)); // 9 records a copy, 1-2 of them with a running timer
    expect(base.filter((r) => timerOf(r) !== 0).length).toBeGreaterThanOrEqual(40);
    await fc.assert(
      fc.asyncProperty(
        // per tick: ms since the last tick, and each timed record's `expires` off its exact countdown by up to ±700 ms (two ticks apart: up to 1,400, past the 1,000 ms jitter)
        fc.array(fc.record({ step: fc.integer({ min: 500, max: 1500 }), noise: fc.array(fc.integer({ min: -700, max: 700 }), { minLength: 80, maxLength: 80 }) }), {
          minLength: 2,
          maxLength: 6,
        }),
        async (ticks) => {
          const cache = new DiagTableCache('tcp');
          let now = 1_800_000_000_000;
          let prevTimers = new Map<string, number>();
          let prev: InetSocket[] | null = null;
          let elapsed = 0;
          for (const { step, noise } of ticks) {
            now += step;
            elapsed += step;
            let n = 0;
            const records = base.map((r) => {
              if (timerOf(r) === 0) return r;
              const c = r.slice();
              const v = new DataView(c.buffer);
              // the kernel's countdown: what was left at the start, less the time since, give or take
              v.setUint32(68, Math.max(0, 50_000 + (n % 7) * 1000 - elapsed + noise[n++ % noise.length]!), true);
              return c;
            });
            const batch = batchOf(records);
            const timers = new Map<string, number>();
            const r = await cache.build([batch.slice()], now, names, null, prevTimers, timers, 1, 1);
            const cold = await new DiagTableCache('tcp').build([batch.slice()], now, names, null, prevTimers, new Map(), 1, 1);
            if (!r.ok || !cold.ok) throw new Error('build failed');
            expect(r.sockets).toEqual(cold.sockets);
            if (prev !== null) {
              // only `expires` moved: every socket whose timer is off is last tick's
              expect(r.sockets.every((s, i) => s.timer.code !== 0 || s === prev![i])).toBe(true);
            }
            prev = r.sockets;
            prevTimers = timers;
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
