import { describe, expect, it } from 'vitest';
import type { Socket } from '@netscope/shared';
import { alertGroup, breakdown, breakdownOf, measure, unwatchExcept, warmBreakdown } from '../../src/alerts/measure.js';
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
    expect([...one.states.values()].reduce((a, b) => a + b, 0)).toBe(51_500); // udp left out
    expect(one.watched.state.size + one.watched.remote.size + one.watched.port.size).toBe(0); // nothing broken down yet
  });

  it('groups break down exactly what filtering every connection gives', () => {
    const m = measure({ sockets });
    const viaGroup = breakdown(m, sockets, { by: 'remote', key: '203.0.113.7' });
    const viaFilter = breakdownOf(sockets.filter((s) => s.proto !== 'unix' && s.remoteAddress === '203.0.113.7'));
    expect(viaGroup).toEqual(viaFilter);
    expect(viaGroup.byState.get('ESTABLISHED')).toBe(30_000);
    expect(breakdown(m, sockets, { by: 'port', key: 443 }).byState).toEqual(new Map([['ESTABLISHED', 30_000], ['SYN_RECV', 9_000]]));
    expect(breakdown(m, sockets, { by: 'state', key: 'TIME_WAIT' }).byRemote).toEqual(new Map([['198.51.100.2', 12_000]]));
    expect(breakdown(m, sockets, { by: 'remote', key: '192.0.2.9' }).byState).toEqual(new Map([['SYN_RECV', 9_000]])); // folded key, NEW_SYN_RECV as SYN_RECV
    expect(breakdown(m, sockets, undefined).byState.size).toBe(0);
    // counted once, then watched: the same object next time
    expect(breakdown(m, sockets, { by: 'port', key: 443 })).toBe(breakdown(m, sockets, { by: 'port', key: 443 }));
  });

  it('an alert finds the group its text breaks down', () => {
    expect(alertGroup('established', null)).toEqual({ by: 'state', key: 'ESTABLISHED' });
    expect(alertGroup('timeWait', null)).toEqual({ by: 'state', key: 'TIME_WAIT' });
    expect(alertGroup('closeWait', null)).toEqual({ by: 'state', key: 'CLOSE_WAIT' });
    expect(alertGroup('perRemote', '192.0.2.9')).toEqual({ by: 'remote', key: '192.0.2.9' });
    expect(alertGroup('perLocalPort', '443')).toEqual({ by: 'port', key: 443 });
    expect(alertGroup('perLocalPort', 'x')).toBeUndefined(); // a restored alert with a bad key breaks down nothing
    expect(alertGroup('perRemote', null)).toBeUndefined();
    expect(alertGroup('synRecv', null)).toBeUndefined();
  });

  it('a breakdown counted ahead in slices is the one the alert text then gets, equal to counting in one go', async () => {
    const m = measure({ sockets });
    const group = { by: 'port', key: 443 } as const;
    const { turns } = await turnsDuring(() => warmBreakdown(m, sockets, group, new Slice(0)));
    expect(turns).toBeGreaterThan(1); // the event loop had turns while 51k sockets were looked at
    const warmed = breakdown(m, sockets, group);
    expect(warmed).toEqual(breakdown(measure({ sockets }), sockets, group)); // counted afresh elsewhere: equal
    expect(warmed.byRemote).toEqual(new Map([['203.0.113.7', 30_000], ['192.0.2.9', 9_000]]));
    await warmBreakdown(m, sockets, undefined, new Slice(0)); // nothing to count
  });

  it('only the groups still wanted stay watched', () => {
    const m = measure({ sockets });
    breakdown(m, sockets, { by: 'port', key: 443 });
    breakdown(m, sockets, { by: 'state', key: 'TIME_WAIT' });
    breakdown(m, sockets, { by: 'remote', key: '203.0.113.8' });
    unwatchExcept(m, [{ by: 'state', key: 'TIME_WAIT' }, undefined]);
    expect([...m.watched.state.keys()]).toEqual(['TIME_WAIT']);
    expect(m.watched.port.size + m.watched.remote.size).toBe(0);
  });
});
