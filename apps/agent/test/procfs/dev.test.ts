import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InterfaceCounters } from '@netscope/shared';
import { DEV_COLUMNS, type DevRecord, parseDev, readDev } from '../../src/procfs/dev.js';
import {
  LIVE,
  PROPERTY_RUNS,
  commandOutput,
  fixtureRoots,
  fixtureText,
  garbageText,
  haveTool,
  nonEmptyLines,
  run,
  tableRows,
} from './nethelpers.js';

const HEADER =
  'Inter-|   Receive                                                |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

/** The kernel's format (net/core/net-procfs.c). */
function devLine(name: string, v: readonly (number | bigint | string)[]): string {
  const w = [8, 7, 4, 4, 4, 5, 10, 9, 8, 7, 4, 4, 4, 5, 7, 10];
  return `${name.padStart(6)}:${v.map((x, i) => String(x).padStart(w[i]!)).join(' ')}`;
}

const counters = (values: readonly number[]): InterfaceCounters =>
  Object.fromEntries(DEV_COLUMNS.map((k, i) => [k, values[i]!])) as unknown as InterfaceCounters;

/** netstat -i columns from /proc/net/dev (net-tools lib/interface.c ife_print_short): RX-ERR adds frame errors. */
function netstatIRow(d: DevRecord): string[] {
  const c = d.counters;
  return [d.name, String(c.rxPackets), String(c.rxErrs + c.rxFrame), String(c.rxDrop), String(c.rxFifo), String(c.txPackets), String(c.txErrs), String(c.txDrop), String(c.txFifo)];
}
/** The same columns out of `netstat -i` output (dropping MTU and Flg). */
const netstatICounters = (row: string[]): string[] => [row[0]!, ...row.slice(2, 10)];

describe('parseDev: good lines', () => {
  it('reads all 16 counters per interface', () => {
    const p = parseDev(HEADER + devLine('lo', [3193, 29, 0, 0, 0, 0, 0, 0, 3193, 29, 0, 0, 0, 0, 0, 0]) + '\n' + devLine('eth0', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual([
      { name: 'lo', counters: counters([3193, 29, 0, 0, 0, 0, 0, 0, 3193, 29, 0, 0, 0, 0, 0, 0]) },
      { name: 'eth0', counters: counters([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) },
    ]);
  });

  it('a counter wider than its column abuts the colon, and parses exactly past 2^32 up to 2^53', () => {
    const big = [2 ** 53 - 1, 2 ** 32 + 5, 0, 0, 0, 0, 0, 0, 98765432101234, 2 ** 32, 0, 0, 0, 0, 0, 0];
    const line = devLine('eth0', big);
    expect(line).toContain('eth0:9007199254740991');
    const p = parseDev(HEADER + line + '\n');
    expect(p.records[0]!.counters.rxBytes).toBe(9007199254740991);
    expect(p.records[0]!.counters.rxPackets).toBe(4294967301);
    expect(p.records[0]!.counters.txBytes).toBe(98765432101234);
  });

  it('a u64 past 2^53 is kept (nearest double) rather than hiding the interface', () => {
    const p = parseDev(HEADER + devLine('eth0', ['18446744073709551615', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records[0]!.counters.rxBytes).toBe(2 ** 64); // the nearest double to 2^64 - 1
  });

  it.each([
    ['15-char name', 'br-0123456789ab'],
    ['vlan name with a dot', 'eno1.100'],
    ['name with dashes', 'veth-a1b2'],
  ])('%s', (_n, name) => {
    const p = parseDev(HEADER + devLine(name, new Array(16).fill(1)) + '\n');
    expect(p.records[0]?.name).toBe(name);
  });

  it('CRLF, header only, empty file, no headers at all', () => {
    const line = devLine('lo', new Array(16).fill(0));
    expect(parseDev((HEADER + line + '\n').replace(/\n/g, '\r\n')).records).toHaveLength(1);
    expect(parseDev(HEADER)).toEqual({ records: [], badLines: 0, sample: null, message: null });
    expect(parseDev('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
    expect(parseDev(line).records).toHaveLength(1);
  });
});

describe('parseDev: malformed input', () => {
  const good = devLine('lo', new Array(16).fill(0));
  it.each([
    ['no colon', '  eth0 1 2 3', /no ":"/],
    ['15 counters', devLine('eth0', new Array(15).fill(0)), /15 counters, want 16/],
    ['17 counters', `${good} 9`, /17 counters/],
    ['non-numeric counter', devLine('eth0', [1, 2, 'x', 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), /bad rxErrs "x"/],
    ['negative counter', devLine('eth0', [1, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), /bad rxPackets "-2"/],
    ['21-digit counter', devLine('eth0', ['123456789012345678901', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /bad rxBytes/],
    ['empty name', `:${good.split(':')[1]!}`, /bad interface name/],
    ['truncated', good.slice(0, 30), /counters, want 16/],
  ])('%s is skipped and counted', (_name, line, reason) => {
    const p = parseDev(`${HEADER}${good}\n${line}\n${good}\n`);
    expect(p.records).toHaveLength(2);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });
});

describe('parseDev: properties', () => {
  it('never throws on garbage and counts every skipped line', () => {
    fc.assert(
      fc.property(garbageText, (body) => {
        const p = parseDev(HEADER + body);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(body));
      }),
      PROPERTY_RUNS,
    );
  });

  it('generated lines round-trip exactly for any counter up to 2^53', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9._-]{0,14}$/),
        fc.array(fc.maxSafeNat(), { minLength: 16, maxLength: 16 }),
        (name, values) => {
          const p = parseDev(HEADER + devLine(name, values) + '\n');
          expect(p.badLines).toBe(0);
          expect(p.records).toEqual([{ name, counters: counters(values) }]);
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it('debian-live: counters == captured `netstat -ia` (RX-OK, RX-ERR, RX-DRP, RX-OVR, TX-…)', () => {
    const p = parseDev(fixtureText('debian-live', 'net/dev'));
    expect(p.badLines).toBe(0);
    const byName = (a: string[], b: string[]): number => a[0]!.localeCompare(b[0]!);
    expect(p.records.map(netstatIRow).sort(byName)).toEqual(tableRows(commandOutput('debian-live', 'netstat-ia.txt'), 'Iface').map(netstatICounters).sort(byName));
  });

  it('crafted: a server with ten interfaces and counters past 2^32', async () => {
    const { data, status } = await readDev(fixtureRoots('crafted'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(data.map((d) => d.name)).toEqual(['lo', 'eno1', 'eno2', 'bond0', 'eno1.100', 'docker0', 'veth1234abc', 'br-0123456789ab', 'wg0', 'tun0']);
    expect(data[1]!.counters).toMatchObject({ rxBytes: 98765432101234, rxPackets: 4294967301, rxErrs: 3, rxDrop: 17, rxMulticast: 998877, txPackets: 8589934592 });
    expect(data[2]!.counters.rxBytes).toBe(2 ** 53 - 1);
  });

  it('a missing file is `missing`', async () => {
    expect((await readDev(fixtureRoots('nope'))).status.state).toBe('missing');
  });
});

describe.runIf(haveTool('netstat'))('live /proc/net/dev', () => {
  it('has the interfaces `netstat -ia` lists, with RX-OK/TX-OK within a small tolerance', async () => {
    const before = await readDev(LIVE);
    const out = run('netstat', ['-ia']);
    const after = await readDev(LIVE);
    expect(before.status.state).toBe('ok');
    if (out === null) return;
    const rows = tableRows(out, 'Iface');
    expect(rows.map((r) => r[0]).sort()).toEqual(before.data.map((d) => d.name.slice(0, 15)).sort());
    for (const row of rows) {
      const b = before.data.find((d) => d.name.startsWith(row[0]!))!;
      const a = after.data.find((d) => d.name.startsWith(row[0]!))!;
      // netstat read between our two reads: counters only grow, so it lies between them.
      for (const [col, key] of [[2, 'rxPackets'], [6, 'txPackets']] as const) {
        const seen = Number(row[col]);
        expect(seen).toBeGreaterThanOrEqual(b.counters[key]);
        expect(seen).toBeLessThanOrEqual(a.counters[key]);
      }
    }
  });
});
