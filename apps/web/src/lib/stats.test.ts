import { describe, expect, it } from 'vitest';
import { filterStatGroups, isErrorCounter, statGroups } from './stats';

const stats = {
  counters: {
    TcpExt: { ListenOverflows: 3, TCPTimeouts: 0, DelayedACKs: 10 },
    Tcp: { ActiveOpens: 5, RetransSegs: 2, CurrEstab: 4, InErrs: 0 },
    Ip: { InReceives: 100, InDiscards: 1 },
    Weird: { X: 1 },
  },
  rates: { Tcp: { ActiveOpens: 0.5, RetransSegs: 0, CurrEstab: null, InErrs: 0 }, TcpExt: { ListenOverflows: 1 } },
};

describe('statGroups', () => {
  it('orders groups like netstat -s and flags error counters', () => {
    const g = statGroups(stats);
    expect(g.map((x) => x.group)).toEqual(['Ip', 'Tcp', 'TcpExt', 'Weird']);
    expect(g[1]!.protocol).toBe('TCP');
    const tcp = Object.fromEntries(g[1]!.rows.map((r) => [r.name, r]));
    expect(tcp.RetransSegs).toMatchObject({ error: true, value: 2, rate: 0 });
    expect(tcp.CurrEstab).toMatchObject({ error: false, rate: null });
    expect(tcp.ActiveOpens!.rate).toBe(0.5);
    expect(g[1]!.errorsNonZero).toBe(1);
    expect(g[2]!.rows.find((r) => r.name === 'ListenOverflows')).toMatchObject({ error: true, rate: 1 });
    expect(g[2]!.rows.find((r) => r.name === 'DelayedACKs')!.rate).toBeNull();
  });
  it('isErrorCounter', () => {
    expect(isErrorCounter('Udp', 'RcvbufErrors')).toBe(true);
    expect(isErrorCounter('Ip', 'InDiscards')).toBe(true);
    expect(isErrorCounter('Tcp', 'RtoMin')).toBe(false);
    expect(isErrorCounter('Tcp', 'ActiveOpens')).toBe(false);
    expect(isErrorCounter('IcmpMsg', 'InType3')).toBe(false);
  });
  it('searches by name, protocol, non-zero and errors only', () => {
    const g = statGroups(stats);
    expect(filterStatGroups(g, 'overflow').flatMap((x) => x.rows.map((r) => r.name))).toEqual(['ListenOverflows']);
    expect(filterStatGroups(g, 'tcp.').map((x) => x.group)).toEqual(['Tcp']);
    expect(filterStatGroups(g, 'TCP').map((x) => x.group)).toEqual(['Tcp', 'TcpExt']);
    expect(filterStatGroups(g, '', { errorsOnly: true }).flatMap((x) => x.rows.map((r) => r.name))).toEqual(['InDiscards', 'RetransSegs', 'ListenOverflows']);
    expect(filterStatGroups(g, '', { nonZero: true }).flatMap((x) => x.rows).length).toBe(8);
  });
});
