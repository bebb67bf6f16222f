import { describe, expect, it } from 'vitest';
import { hostname, release, uptime } from 'node:os';
import fc from 'fast-check';
import { parseOneLine, parseUptime, readHost } from '../../src/procfs/host.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText } from './nethelpers.js';

describe('host parsers', () => {
  it.each([
    ['373.54 659.30\n', 373.54],
    ['8640123.45 33102938.12', 8640123.45],
    ['12\n', 12],
    ['', null],
    ['abc def', null],
    ['-1.0 2.0', null],
    ['1 2 3', null],
  ])('parseUptime(%j) → %s', (t, v) => expect(parseUptime(t)).toBe(v));

  it.each([
    ['vm\n', 'vm'],
    ['  edge-01 \n', 'edge-01'],
    ['\n', null],
    ['', null],
    ['6.1.0\r\n', '6.1.0'],
  ])('parseOneLine(%j) → %s', (t, v) => expect(parseOneLine(t)).toBe(v));

  it('never throw on garbage', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        parseUptime(t);
        parseOneLine(t);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('readHost', () => {
  it('debian-live fixture', async () => {
    const { data, status } = await readHost(fixtureRoots('debian-live'));
    expect(data.hostname).toBe(fixtureText('debian-live', 'sys/kernel/hostname').trim());
    expect(data.kernel).toBe(fixtureText('debian-live', 'sys/kernel/osrelease').trim());
    expect(data.uptimeSec).toBe(Number(fixtureText('debian-live', 'uptime').split(' ')[0]));
    expect(status).toMatchObject({ state: 'ok', message: null });
  });

  it('crafted', async () => {
    expect((await readHost(fixtureRoots('crafted'))).data).toEqual({ hostname: 'edge-router-01', kernel: '6.1.0-28-amd64', uptimeSec: 8640123.45 });
  });

  it('nothing readable: missing, empty strings and null uptime', async () => {
    const { data, status } = await readHost(fixtureRoots('nope'));
    expect(data).toEqual({ hostname: '', kernel: '', uptimeSec: null });
    expect(status.state).toBe('missing');
    expect(status.message).toBe('missing: hostname, osrelease, uptime');
  });

  it('live == os.hostname(), os.release(), os.uptime()', async () => {
    const { data } = await readHost(LIVE);
    expect(data.hostname).toBe(hostname());
    expect(data.kernel).toBe(release());
    expect(Math.abs(data.uptimeSec! - uptime())).toBeLessThan(5);
  });
});
