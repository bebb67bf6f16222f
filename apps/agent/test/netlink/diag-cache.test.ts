// The sock_diag socket cache: an unchanged dump gives last tick's very objects (TIME_WAIT too, whose
// timer runs), a changed record gives a new object equal to a cold build's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagTableCache } from '../../src/collect/diag-cache.js';

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
