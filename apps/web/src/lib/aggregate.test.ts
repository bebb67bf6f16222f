import { describe, expect, it } from 'vitest';
import {
  bindScope,
  computeOverview,
  listeningServices,
  processSummaries,
  remoteSummaries,
  socketsOfPid,
  stateCountsOf,
  thresholdAlerts,
} from './aggregate';
import { snapshot, tcp, unix } from './fixtures.test-util';

const sockets = [
  tcp({ id: 'l1', state: 'LISTEN', localAddress: '0.0.0.0', localPort: 443, remoteAddress: '0.0.0.0', remotePort: 0, localService: 'https' }),
  tcp({ id: 'l2', proto: 'tcp6', family: 6, state: 'LISTEN', localAddress: '::1', localPort: 5432, remoteAddress: '::', remotePort: 0, pid: 200, program: 'postgres' }),
  tcp({ id: 'e1', remoteAddress: '203.0.113.7', remotePort: 1 }),
  tcp({ id: 'e2', remoteAddress: '203.0.113.7', remotePort: 2, state: 'TIME_WAIT', pid: null, program: null, inode: 0 }),
  tcp({ id: 'e3', remoteAddress: '192.168.1.5', localPort: 22, state: 'NEW_SYN_RECV', pid: null, program: null }),
  tcp({ id: 'u1', proto: 'udp', state: 'CLOSE', localAddress: '127.0.0.53', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, pid: 400, program: 'resolved' }),
  tcp({ id: 'r1', proto: 'raw', state: 'CLOSE', localPort: 1, remoteAddress: '0.0.0.0', remotePort: 0 }),
  unix({ id: 'x1' }),
];
const snap = snapshot({ sockets });

describe('computeOverview', () => {
  it('counts per protocol and TCP state (NEW_SYN_RECV as SYN_RECV)', () => {
    const o = computeOverview(sockets);
    expect(o.total).toBe(8);
    expect(o.byProto).toMatchObject({ tcp: 4, tcp6: 1, udp: 1, raw: 1, unix: 1, udp6: 0 });
    expect(o.tcpTotal).toBe(5);
    expect(o.tcpStates).toMatchObject({ LISTEN: 2, ESTABLISHED: 1, TIME_WAIT: 1, SYN_RECV: 1, NEW_SYN_RECV: 0 });
    expect(o.listening).toBe(4); // 2 LISTEN, udp, raw
    expect(o.ownerUnseen).toBe(1); // e3: inode but no pid; e2 has no inode
  });
});

describe('listeningServices', () => {
  it('is netstat -tulnp, sorted by port, with bind scope', () => {
    const l = listeningServices(sockets);
    expect(l.map((x) => [x.proto, x.port, x.scope])).toEqual([
      ['udp', 53, 'loopback'],
      ['tcp', 443, 'all'],
      ['tcp6', 5432, 'loopback'],
    ]);
    expect(listeningServices(sockets, { raw: true })).toHaveLength(4);
    expect(l[1]!.service).toBe('https');
  });
  it('bindScope', () => {
    expect(bindScope('0.0.0.0')).toBe('all');
    expect(bindScope('::')).toBe('all');
    expect(bindScope('127.0.0.53')).toBe('loopback');
    expect(bindScope('::ffff:127.0.0.1')).toBe('loopback');
    expect(bindScope('10.0.0.1')).toBe('specific');
  });
});

describe('remoteSummaries', () => {
  it('ranks peers by connections with states, local ports and scope', () => {
    const r = remoteSummaries(sockets);
    expect(r.map((x) => [x.address, x.total, x.scope])).toEqual([
      ['203.0.113.7', 2, 'public'],
      ['192.168.1.5', 1, 'private'],
    ]);
    expect(r[0]!.states).toEqual({ ESTABLISHED: 1, TIME_WAIT: 1 });
    expect(r[0]!.localPorts).toEqual([[443, 2]]);
    expect(r[1]!.states).toEqual({ SYN_RECV: 1 });
  });
});

describe('processSummaries', () => {
  it('one row per process plus labelled unowned entries', () => {
    const p = processSummaries(snap);
    const byKey = Object.fromEntries(p.map((x) => [x.key, x]));
    expect(byKey['pid:100']).toMatchObject({ program: 'nginx', user: 'www-data', total: 3, listening: ['raw/1', 'tcp/443'], peers: 1 });
    expect(byKey['pid:100']!.byProto).toEqual({ t: 2, u: 0, w: 1, x: 0 });
    expect(byKey['pid:200']).toMatchObject({ listening: ['tcp/5432'], peers: 0 });
    expect(byKey['unowned:kernel']).toMatchObject({ pid: null, unowned: 'kernel', total: 1 });
    expect(byKey['unowned:unseen']).toMatchObject({ pid: null, unowned: 'unseen', total: 1, peers: 1 });
    expect(byKey['pid:1']!.byProto.x).toBe(1);
  });
  it('socketsOfPid includes shared sockets', () => {
    const shared = tcp({ id: 's', pid: 1, otherPids: [100] });
    expect(socketsOfPid([...sockets, shared], 100).map((s) => s.id)).toEqual(['l1', 'e1', 'r1', 's']);
    expect(stateCountsOf(socketsOfPid(sockets, 100))).toMatchObject({ LISTEN: 1, ESTABLISHED: 1 });
  });
});

describe('thresholdAlerts', () => {
  it('fires on the seed articles’ thresholds only', () => {
    const o = computeOverview(sockets);
    expect(thresholdAlerts(o, remoteSummaries(sockets)[0])).toEqual([]);
    o.tcpStates.SYN_RECV = 51;
    o.tcpStates.TIME_WAIT = 1001;
    o.tcpStates.CLOSE_WAIT = 101;
    const alerts = thresholdAlerts(o, { address: '198.51.100.1', scope: 'public', total: 51, states: {}, localPorts: [], programs: [] });
    expect(alerts.map((a) => a.level)).toEqual(['crit', 'warn', 'warn', 'warn']);
    expect(alerts[3]!.to).toBe('/connections?peer=198.51.100.1');
  });
});
