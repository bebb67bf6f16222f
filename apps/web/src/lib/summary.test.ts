/**
 * The agent's `socketSummary` (summariseSockets, @netscope/shared) must say what the page counted
 * from the sockets before: the overview and wall read it instead when the agent sends it.
 */
import { describe, expect, it } from 'vitest';
import { summariseSockets } from '@netscope/shared';
import { computeOverview, listeningServices, overviewFromSummary, remoteRanking } from './aggregate';
import { tcp, unix } from './fixtures.test-util';

const sockets = [
  tcp({ id: 'l1', state: 'LISTEN', localAddress: '0.0.0.0', localPort: 443, remoteAddress: '0.0.0.0', remotePort: 0, localService: 'https' }),
  tcp({ id: 'l2', proto: 'tcp6', family: 6, state: 'LISTEN', localAddress: '::1', localPort: 5432, remoteAddress: '::', remotePort: 0, pid: 200, program: 'postgres' }),
  tcp({ id: 'e1', remoteAddress: '203.0.113.7', remotePort: 1 }),
  tcp({ id: 'e2', remoteAddress: '203.0.113.7', remotePort: 2, state: 'TIME_WAIT', pid: null, program: null, inode: 0 }),
  tcp({ id: 'e4', remoteAddress: '203.0.113.7', localPort: 8443, remotePort: 3, pid: 200, program: 'postgres' }),
  tcp({ id: 'e3', remoteAddress: '192.168.1.5', localPort: 22, state: 'NEW_SYN_RECV', pid: null, program: null }),
  tcp({ id: 'u1', proto: 'udp', state: 'CLOSE', localAddress: '127.0.0.53', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, pid: 400, program: 'resolved' }),
  tcp({ id: 'u2', proto: 'udp6', family: 6, state: 'ESTABLISHED', localAddress: '::1', localPort: 40000, remoteAddress: '::1', remotePort: 53 }),
  tcp({ id: 'r1', proto: 'raw', state: 'CLOSE', localPort: 1, remoteAddress: '0.0.0.0', remotePort: 0 }),
  unix({ id: 'x1' }),
  unix({ id: 'x2', pid: null, program: null }),
];

describe('summariseSockets against the page aggregates', () => {
  const sum = summariseSockets(sockets);

  it('overview counts are computeOverview', () => {
    expect(overviewFromSummary(sum)).toEqual(computeOverview(sockets));
    expect(sum.byFamily).toEqual({ ipv4: 7, ipv6: 2 });
  });

  it('the remote ranking is remoteRanking (address, total, states, ports, programs)', () => {
    const page = remoteRanking(sockets, 10);
    expect(sum.remotePeers).toBe(page.peers);
    expect(sum.topRemotes).toEqual(page.top.map(({ scope: _scope, ...r }) => r));
    expect(sum.topRemotes[0]).toMatchObject({ address: '203.0.113.7', total: 3, localPorts: [[443, 2], [8443, 1]], programs: ['nginx', 'postgres'] });
  });

  it('listeners are listeningServices (TCP and UDP, no raw), in its order', () => {
    const page = listeningServices(sockets);
    expect(sum.listenersTotal).toBe(page.length);
    expect(sum.listeners.map((l) => l.id)).toEqual(page.map((l) => l.id));
  });

  it('top local ports and processes, most first; limits hold', () => {
    expect(sum.topLocalPorts[0]).toEqual({ port: 443, total: 2 });
    expect(sum.topProcesses[0]).toEqual({ pid: 100, program: 'nginx', total: 4 });
    const small = summariseSockets(sockets, { remotes: 1, localPorts: 1, listeners: 1, processes: 1 });
    expect([small.topRemotes.length, small.topLocalPorts.length, small.listeners.length, small.topProcesses.length]).toEqual([1, 1, 1, 1]);
    expect(small.listenersTotal).toBe(sum.listenersTotal);
  });

  it('an empty list counts zero', () => {
    const e = summariseSockets([]);
    expect([e.total, e.remotePeers, e.listenersTotal, e.topRemotes.length]).toEqual([0, 0, 0, 0]);
  });
});
