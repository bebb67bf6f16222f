import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { KernelSettings } from '@netscope/shared';
import { SYSCTL_FILES, parsePortRange, parseSysctlInt, readKernelSettings } from '../../src/procfs/sysctl.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, garbageText } from './nethelpers.js';

describe('parseSysctlInt', () => {
  it.each([
    ['1\n', 1],
    ['4096', 4096],
    ['-1\n', -1],
    [' 60 \n', 60],
    ['', null],
    ['1 2\n', null],
    ['one\n', null],
    ['1.5\n', null],
  ])('%j → %s', (t, v) => expect(parseSysctlInt(t)).toBe(v));
});

describe('parsePortRange', () => {
  it.each([
    ['32768\t60999\n', [32768, 60999]],
    ['1024 65000', [1024, 65000]],
    ['1024\t1024\n', [1024, 1024]],
    ['60999\t32768\n', null],
    ['1024\t70000\n', null],
    ['1024\n', null],
    ['a\tb\n', null],
    ['', null],
  ])('%j → %j', (t, v) => expect(parsePortRange(t)).toEqual(v));

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        parsePortRange(t);
        parseSysctlInt(t);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('readKernelSettings', () => {
  it('debian-live: every setting, as the files said', async () => {
    const { data, status } = await readKernelSettings(fixtureRoots('debian-live'));
    expect(data).toEqual<KernelSettings>({
      tcpSyncookies: 1,
      tcpTwReuse: 2,
      tcpFinTimeoutSec: 60,
      tcpMaxTwBuckets: 131072,
      tcpMaxSynBacklog: 2048,
      somaxconn: 4096,
      ipLocalPortRange: [32768, 60999],
    });
    expect(status).toMatchObject({ state: 'ok', message: null, badLines: 0 });
  });

  it('crafted: tcp_tw_reuse absent → null, and the status names it', async () => {
    const { data, status } = await readKernelSettings(fixtureRoots('crafted'));
    expect(data.tcpTwReuse).toBeNull();
    expect(data.ipLocalPortRange).toEqual([1024, 65000]);
    expect(data.somaxconn).toBe(65535);
    expect(status.state).toBe('ok');
    expect(status.message).toBe('missing: tcp_tw_reuse');
  });

  it('no /proc/sys at all: every setting null, state missing', async () => {
    const { data, status } = await readKernelSettings(fixtureRoots('nope'));
    expect(Object.values(data).every((v) => v === null)).toBe(true);
    expect(status.state).toBe('missing');
    expect(status.message).toMatch(/missing: tcp_syncookies, tcp_tw_reuse/);
  });

  it('live: matches the files read directly', async () => {
    const { data } = await readKernelSettings(LIVE);
    for (const [key, rel] of Object.entries(SYSCTL_FILES) as [keyof KernelSettings, string][]) {
      let text: string | null = null;
      try {
        text = readFileSync(`/proc/${rel}`, 'utf8');
      } catch {
        text = null;
      }
      if (text === null) expect(data[key]).toBeNull();
      else if (key === 'ipLocalPortRange') expect(data[key]).toEqual(text.trim().split(/\s+/).map(Number));
      else expect(data[key]).toBe(Number(text.trim()));
    }
  });
});
