// steadySources: a source whose status differs from last tick's only by a small change of its time
// keeps last tick's object, so the stream does not resend the sources section every tick.
import { describe, expect, it } from 'vitest';
import type { Snapshot, SourceStatus } from '@netscope/shared';
import { SOURCE_MS_STEADY, steadySources } from '../../src/collect/collector.js';

const st = (ms: number, over: Partial<SourceStatus> = {}): SourceStatus => ({
  state: 'ok',
  path: '/proc/net/snmp',
  message: null,
  badLines: 0,
  sample: null,
  ms,
  ...over,
});

describe('steadySources', () => {
  it('the first tick is what it measured', () => {
    const cur: Snapshot['sources'] = { snmp: st(0.4) };
    expect(steadySources(null, cur)).toBe(cur);
  });

  it('times within 0.5 ms (or 25%) of the last ones: last tick\'s section itself', () => {
    const prev: Snapshot['sources'] = { snmp: st(0.4), tcp: st(2.0, { path: 'netlink' }), unix: st(12, { path: '/proc/net/unix' }) };
    const cur: Snapshot['sources'] = { snmp: st(0.8), tcp: st(1.6, { path: 'netlink' }), unix: st(14.9, { path: '/proc/net/unix' }) };
    expect(steadySources(prev, cur)).toBe(prev);
  });

  it('a time that moved further is sent; the others keep last tick\'s objects', () => {
    const prev: Snapshot['sources'] = { snmp: st(0.4), unix: st(12, { path: '/proc/net/unix' }) };
    const cur: Snapshot['sources'] = { snmp: st(0.4 + SOURCE_MS_STEADY + 0.1), unix: st(12.1, { path: '/proc/net/unix' }) };
    const out = steadySources(prev, cur);
    expect(out).toBe(cur);
    expect(out.snmp).not.toBe(prev.snmp);
    expect(out.snmp!.ms).toBeCloseTo(1.0);
    expect(out.unix).toBe(prev.unix);
  });

  it('anything but the time is sent at once, however close the time', () => {
    for (const over of [{ state: 'malformed' as const }, { message: 'x' }, { badLines: 1 }, { sample: 'bad line' }, { path: '/other' }]) {
      const prev: Snapshot['sources'] = { snmp: st(1) };
      const out = steadySources(prev, { snmp: st(1, over) });
      expect(out).not.toBe(prev);
      expect(out.snmp).toMatchObject(over);
    }
  });

  it('a source that came or went changes the section', () => {
    const prev: Snapshot['sources'] = { snmp: st(1), unix: st(1) };
    expect(steadySources(prev, { snmp: st(1) })).not.toBe(prev);
    expect(steadySources({ snmp: st(1) }, { snmp: st(1), unix: st(1) })).toEqual({ snmp: st(1), unix: st(1) });
  });

  it('a slow drift is sent once it is 0.5 ms from the time shown', () => {
    let shown: Snapshot['sources'] = steadySources(null, { snmp: st(1) });
    const sent: number[] = [];
    for (let ms = 1.1; ms < 2.35; ms += 0.1) {
      const out = steadySources(shown, { snmp: st(Math.round(ms * 10) / 10) });
      if (out !== shown) sent.push(out.snmp!.ms);
      shown = out;
    }
    expect(sent).toEqual([1.6, 2.2]);
  });
});
