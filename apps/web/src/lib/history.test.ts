import { describe, expect, it } from 'vitest';
import type { NetInterface } from '@netscope/shared';
import { History } from './history';
import { computeOverview } from './aggregate';
import { snapshot, tcp } from './fixtures.test-util';

const iface = (name: string, rx: number | null): NetInterface => ({
  name,
  mtu: 1500,
  flags: 'BMRU',
  flagsRaw: null,
  operstate: 'up',
  speedMbps: null,
  mac: null,
  addresses: [],
  counters: { rxBytes: 0, rxPackets: 0, rxErrs: 0, rxDrop: 0, rxFifo: 0, rxFrame: 0, rxCompressed: 0, rxMulticast: 0, txBytes: 0, txPackets: 0, txErrs: 0, txDrop: 0, txFifo: 0, txColls: 0, txCarrier: 0, txCompressed: 0 },
  rates: {
    rxBytesPerSec: rx, rxPacketsPerSec: null, rxErrsPerSec: 1, rxDropPerSec: null, rxFifoPerSec: null, rxFramePerSec: null, rxCompressedPerSec: null, rxMulticastPerSec: null,
    txBytesPerSec: null, txPacketsPerSec: null, txErrsPerSec: 2, txDropPerSec: null, txFifoPerSec: null, txCollsPerSec: null, txCarrierPerSec: null, txCompressedPerSec: null,
  },
});

describe('History', () => {
  it('records per tick, bounded, dropping vanished interfaces', () => {
    const h = new History(5);
    for (let i = 0; i < 20; i++) {
      const s = snapshot({ seq: i, time: i * 1000, sockets: [tcp()], interfaces: i < 10 ? [iface('eth0', i), iface('veth1', 1)] : [iface('eth0', i)] });
      h.record(s, computeOverview(s.sockets).tcpStates);
    }
    expect(h.tcpStates.length).toBe(5);
    expect(h.tcpStates.last()!.counts.ESTABLISHED).toBe(1);
    expect(h.ifaces.get('eth0')!.map((p) => p.rxBytesPerSec)).toEqual([15, 16, 17, 18, 19]);
    expect(h.ifaces.get('eth0')!.last()!.errsPerSec).toBe(3);
    expect(h.ifaces.get('eth0')!.last()!.dropsPerSec).toBeNull();
    expect(h.ifaces.has('veth1')).toBe(false);
  });

  it('does not record the same tick twice', () => {
    const h = new History(5);
    const s = snapshot();
    h.record(s, computeOverview(s.sockets).tcpStates);
    h.record(s, computeOverview(s.sockets).tcpStates);
    expect(h.tcpStates.length).toBe(1);
  });

  it('tracks a bounded set of pids (LRU) with their state counts', () => {
    const h = new History(10, 2);
    h.trackPid(100);
    h.trackPid(200);
    h.trackPid(100);
    h.trackPid(300); // evicts 200
    expect([...h.processes.keys()]).toEqual([100, 300]);
    h.recordPid(100, 1000, { ESTABLISHED: 1, TIME_WAIT: 1 });
    h.recordPid(300, 1000, { ESTABLISHED: 1 });
    h.recordPid(200, 1000, { ESTABLISHED: 5 }); // no longer tracked: dropped
    expect(h.processes.get(100)!.last()!.counts).toMatchObject({ ESTABLISHED: 1, TIME_WAIT: 1, LISTEN: 0 });
    expect(h.processes.get(300)!.last()!.counts.ESTABLISHED).toBe(1);
    expect(h.processes.has(200)).toBe(false);
    // The same tick twice (a re-sorted answer) is one point.
    h.recordPid(100, 1000, { ESTABLISHED: 9 });
    expect(h.processes.get(100)!.length).toBe(1);
    h.recordPid(100, 2000, { ESTABLISHED: 2 });
    expect(h.processes.get(100)!.length).toBe(2);
  });
});

describe('History.prefill', () => {
  const point = (t: number, est: number) => ({
    t,
    n: 1,
    states: { ESTABLISHED: est },
    totals: { tcp: est, udp: 0, raw: 0, unix: 0, sockets: est },
    ifaces: { eth0: { rxBytesPerSec: t, txBytesPerSec: null, rxPacketsPerSec: null, txPacketsPerSec: null, errsPerSec: null, dropsPerSec: null } },
    counters: {},
    alerts: 0,
  });

  it('puts the agent history before the live points, bounded, skipping overlap', () => {
    const h = new History(5);
    const s = snapshot({ time: 10_000, sockets: [tcp()], interfaces: [iface('eth0', 1)] });
    h.record(s, computeOverview(s.sockets).tcpStates);
    const added = h.prefill([point(6000, 6), point(7000, 7), point(8000, 8), point(9000, 9), point(10_000, 99), point(11_000, 99)]);
    expect(added).toBe(4);
    expect(h.tcpStates.map((p) => p.t)).toEqual([6000, 7000, 8000, 9000, 10_000]);
    expect(h.tcpStates.map((p) => p.counts.ESTABLISHED)).toEqual([6, 7, 8, 9, 1]);
    expect(h.ifaces.get('eth0')!.map((p) => p.rxBytesPerSec)).toEqual([6000, 7000, 8000, 9000, 1]);
  });

  it('ignores junk', () => {
    const h = new History(5);
    expect(h.prefill([{ t: 'x' } as unknown as ReturnType<typeof point>])).toBe(0);
  });
});
