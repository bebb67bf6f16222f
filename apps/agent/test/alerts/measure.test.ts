import { describe, expect, it } from 'vitest';
import type { Socket } from '@netscope/shared';
import { alertGroup, breakdown, measure, warmBreakdown } from '../../src/alerts/measure.js';
import { Slice } from '../../src/yield.js';
import { turnsDuring } from '../helpers/turns.js';
import { conns } from './synthetic.js';

describe('measure', () => {
  // tens of thousands of sockets over several states, peers and ports
  const sockets: Socket[] = [
    ...conns(30_000, 'ESTABLISHED', '203.0.113.7', 443),
    ...conns(12_000, 'TIME_WAIT', '198.51.100.2', 80),
    ...conns(9_000, 'NEW_SYN_RECV', '::ffff:192.0.2.9', 443, { proto: 'tcp6', family: 6 }),
    ...conns(500, 'CLOSE_WAIT', '203.0.113.8', 8080, { program: 'java', pid: 77 }),
    ...conns(40, 'ESTABLISHED', '192.0.2.1', 53, { proto: 'udp' }),
  ];

  it('counts states, peers and owners in one pass', () => {
    const one = measure({ sockets });
    expect(one.states.get('SYN_RECV')).toBe(9_000);
    expect(one.byRemote.get('192.0.2.9')).toBe(9_000); // v4-mapped folded
    expect(one.closeWaitOwners.get('java (77)')).toBe(500);
    expect(one.conns.size).toBe(51_500); // udp left out
  });

  it('groups break down exactly what filtering every connection gives', () => {
    const m = measure({ sockets });
    const viaGroup = breakdown(m.connsByRemote.get('203.0.113.7'));
    const viaFilter = breakdown([...m.conns].filter((s) => s.remoteAddress === '203.0.113.7'));
    expect(viaGroup).toEqual(viaFilter);
    expect(viaGroup.byState.get('ESTABLISHED')).toBe(30_000);
    expect(breakdown(m.connsByLocalPort.get(443)).byState).toEqual(new Map([['ESTABLISHED', 30_000], ['SYN_RECV', 9_000]]));
    expect(breakdown(m.connsByState.get('TIME_WAIT')).byRemote).toEqual(new Map([['198.51.100.2', 12_000]]));
    expect(breakdown(undefined).byState.size).toBe(0);
  });

  it('an alert finds the group its text breaks down', () => {
    const m = measure({ sockets });
    expect(alertGroup(m, 'established', null)).toBe(m.connsByState.get('ESTABLISHED'));
    expect(alertGroup(m, 'timeWait', null)?.size).toBe(12_000);
    expect(alertGroup(m, 'closeWait', null)?.size).toBe(500);
    expect(alertGroup(m, 'perRemote', '192.0.2.9')?.size).toBe(9_000); // the folded key the alert carries
    expect(alertGroup(m, 'perLocalPort', '443')?.size).toBe(39_000);
    expect(alertGroup(m, 'perLocalPort', '9')).toBeUndefined();
    expect(alertGroup(m, 'synRecv', null)).toBeUndefined();
  });

  it('a breakdown counted ahead in slices is the one the alert text then gets, equal to counting in one go', async () => {
    const m = measure({ sockets });
    const group = m.connsByLocalPort.get(443)!;
    const { turns } = await turnsDuring(() => warmBreakdown(group, new Slice(0)));
    expect(turns).toBeGreaterThan(1); // the event loop had turns while 39k sockets were counted
    const warmed = breakdown(group);
    expect(warmed).toEqual(breakdown(new Set(group))); // a copy is a new group: counted afresh
    expect(breakdown(group)).toBe(warmed);
    expect(warmed.byRemote).toEqual(new Map([['203.0.113.7', 30_000], ['192.0.2.9', 9_000]]));
    await warmBreakdown(undefined, new Slice(0)); // nothing to count
  });
});
