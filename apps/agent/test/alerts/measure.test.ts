import { describe, expect, it } from 'vitest';
import type { Socket } from '@netscope/shared';
import { breakdown, measure, measureSliced } from '../../src/alerts/measure.js';
import { conns } from './synthetic.js';

describe('measure', () => {
  // more sockets than one slice of measureSliced, over several states, peers and ports
  const sockets: Socket[] = [
    ...conns(30_000, 'ESTABLISHED', '203.0.113.7', 443),
    ...conns(12_000, 'TIME_WAIT', '198.51.100.2', 80),
    ...conns(9_000, 'NEW_SYN_RECV', '::ffff:192.0.2.9', 443, { proto: 'tcp6', family: 6 }),
    ...conns(500, 'CLOSE_WAIT', '203.0.113.8', 8080, { program: 'java', pid: 77 }),
    ...conns(40, 'ESTABLISHED', '192.0.2.1', 53, { proto: 'udp' }),
  ];

  it('in slices gives exactly what one pass gives', async () => {
    const one = measure({ sockets });
    const sliced = await measureSliced({ sockets });
    expect(sliced).toEqual(one);
    expect(one.states.get('SYN_RECV')).toBe(9_000);
    expect(one.byRemote.get('192.0.2.9')).toBe(9_000); // v4-mapped folded
    expect(one.closeWaitOwners.get('java (77)')).toBe(500);
    expect(one.conns.length).toBe(51_500); // udp left out
  });

  it('groups break down exactly what filtering every connection gives', () => {
    const m = measure({ sockets });
    const viaGroup = breakdown(m.connsByRemote.get('203.0.113.7'));
    const viaFilter = breakdown(m.conns.filter((s) => s.remoteAddress === '203.0.113.7'));
    expect(viaGroup).toEqual(viaFilter);
    expect(viaGroup.byState.get('ESTABLISHED')).toBe(30_000);
    expect(breakdown(m.connsByLocalPort.get(443)).byState).toEqual(new Map([['ESTABLISHED', 30_000], ['SYN_RECV', 9_000]]));
    expect(breakdown(m.connsByState.get('TIME_WAIT')).byRemote).toEqual(new Map([['198.51.100.2', 12_000]]));
    expect(breakdown(undefined).byState.size).toBe(0);
  });
});
