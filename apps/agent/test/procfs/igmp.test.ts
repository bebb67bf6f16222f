import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MulticastGroup } from '@netscope/shared';
import { parseIgmp, parseIgmp6, readIgmp, readIgmp6 } from '../../src/procfs/igmp.js';
import { formatIpv6 } from '../../src/procfs/hexaddr.js';
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

const HEAD = 'Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n';
const dev = (idx: number, name: string, count: number, q = 'V3'): string => `${idx}\t${name.padEnd(10)}: ${String(count).padStart(5)} ${q.padStart(7)}\n`;
const grp = (hex: string, users: number): string => `\t\t\t\t${hex} ${String(users).padStart(5)} 0:00000000\t\t0\n`;

/** netstat -gn rows: Interface RefCnt Group. */
const netstatGRow = (g: MulticastGroup): string[] => [g.iface, String(g.users), g.group];

describe('parseIgmp (IPv4, host byte order)', () => {
  it('device lines then indented group lines; 010000E0 is 224.0.0.1', () => {
    const p = parseIgmp(HEAD + dev(1, 'lo', 1) + grp('010000E0', 1) + dev(4, 'eth0', 2, 'V2') + grp('FB0000E0', 3) + grp('FAFFFFEF', 1));
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual<MulticastGroup[]>([
      { family: 4, iface: 'lo', ifindex: 1, group: '224.0.0.1', users: 1 },
      { family: 4, iface: 'eth0', ifindex: 4, group: '224.0.0.251', users: 3 },
      { family: 4, iface: 'eth0', ifindex: 4, group: '239.255.255.250', users: 1 },
    ]);
  });

  it('a 15-char name abuts the colon', () => {
    const p = parseIgmp(HEAD + '8\tbr-0123456789ab:     1      V3\n' + grp('010000E0', 1));
    expect(p.records[0]).toMatchObject({ iface: 'br-0123456789ab', ifindex: 8 });
  });

  it('header only, empty file, CRLF', () => {
    expect(parseIgmp(HEAD).records).toEqual([]);
    expect(parseIgmp('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
    expect(parseIgmp((HEAD + dev(1, 'lo', 1) + grp('010000E0', 1)).replace(/\n/g, '\r\n')).records).toHaveLength(1);
  });

  it.each([
    ['group before any device', grp('010000E0', 1) + dev(1, 'lo', 1) + grp('010000E0', 1), 1, /group line without a valid device line/],
    ['device line without colon', 'x lo 1 V3\n' + grp('010000E0', 1) + dev(1, 'lo', 1) + grp('010000E0', 1), 2, /device line without ":"/],
    ['bad group hex', dev(1, 'lo', 1) + grp('0100E0', 1) + grp('010000E0', 1), 1, /bad group "0100E0"/],
    ['bad users', dev(1, 'lo', 1) + '\t\t\t\t010000E0 many 0:00000000\t\t0\n' + grp('010000E0', 1), 1, /bad users "many"/],
    ['truncated group line', dev(1, 'lo', 1) + '\t\t\t\t010000E0\n' + grp('010000E0', 1), 1, /1 fields, want 4/],
    ['garbage device line poisons its groups', 'zz\tlo: x y\n' + grp('010000E0', 1) + dev(1, 'lo', 1) + grp('010000E0', 1), 2, /bad device line/],
  ])('%s', (_n, body, bad, reason) => {
    const p = parseIgmp(HEAD + body);
    expect(p.badLines).toBe(bad);
    expect(p.sample).toMatch(reason);
    expect(p.records).toHaveLength(1);
  });
});

describe('parseIgmp6 (network byte order)', () => {
  it('one group per line', () => {
    const p = parseIgmp6('1    lo              ff020000000000000000000000000001     1 0000000C 0\n4    eth0            ff0200000000000000000001ff000002     2 00000004 0\n');
    expect(p.records).toEqual<MulticastGroup[]>([
      { family: 6, iface: 'lo', ifindex: 1, group: 'ff02::1', users: 1 },
      { family: 6, iface: 'eth0', ifindex: 4, group: 'ff02::1:ff00:2', users: 2 },
    ]);
  });

  it.each([
    ['truncated', '1    lo              ff020000000000000000000000000001', /3 fields/],
    ['bad group', '1    lo              ff02000000000000000000000000001 1 0000000C 0', /bad group/],
    ['bad ifindex', 'x    lo              ff020000000000000000000000000001 1 0000000C 0', /bad ifindex "x"/],
    ['bad users', '1    lo              ff020000000000000000000000000001 -1 0000000C 0', /bad users "-1"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const good = '1    lo              ff020000000000000000000000000001     1 0000000C 0';
    const p = parseIgmp6(`${good}\n${line}\n`);
    expect(p.records).toHaveLength(1);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });
});

describe('properties', () => {
  it('never throw on garbage', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        for (const parse of [parseIgmp, parseIgmp6]) {
          const p = parse(t);
          expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
        }
      }),
      PROPERTY_RUNS,
    );
  });

  it('generated igmp and igmp6 round-trip', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/), fc.array(fc.tuple(octet, octet, octet, octet, fc.nat({ max: 99999 })), { minLength: 1, maxLength: 4 })), { maxLength: 5 }),
        (devices) => {
          let text = HEAD;
          const want: MulticastGroup[] = [];
          devices.forEach(([name, groups], i) => {
            text += dev(i + 1, name, groups.length);
            for (const [a, b, c, d, users] of groups) {
              text += grp((((d << 24) | (c << 16) | (b << 8) | a) >>> 0).toString(16).toUpperCase().padStart(8, '0'), users);
              want.push({ family: 4, iface: name, ifindex: i + 1, group: `${a}.${b}.${c}.${d}`, users });
            }
          });
          const p = parseIgmp(text);
          expect(p.badLines).toBe(0);
          expect(p.records).toEqual(want);
        },
      ),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(fc.nat({ max: 1e6 }), fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat({ max: 99999 }), (idx, name, b, users) => {
        const p = parseIgmp6(`${String(idx).padEnd(4)} ${name.padEnd(15)} ${Buffer.from(b).toString('hex')} ${String(users).padStart(5)} 00000004 0\n`);
        expect(p.records).toEqual([{ family: 6, iface: name, ifindex: idx, group: formatIpv6(b), users }]);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures against net-tools', () => {
  it.each(['debian-live', 'crafted'])('%s: igmp + igmp6 == captured `netstat -gn`', async (scenario) => {
    expect(parseIgmp(fixtureText(scenario, 'net/igmp')).badLines).toBe(0);
    expect(parseIgmp6(fixtureText(scenario, 'net/igmp6')).badLines).toBe(0);
    const v4 = await readIgmp(fixtureRoots(scenario));
    const v6 = await readIgmp6(fixtureRoots(scenario));
    expect([v4.status.state, v6.status.state]).toEqual(['ok', 'ok']);
    expect([...v4.data, ...v6.data].map(netstatGRow)).toEqual(tableRows(commandOutput(scenario, 'netstat-gn.txt'), 'Interface'));
  });
});

describe.runIf(haveTool('netstat'))('live /proc/net/igmp, igmp6', () => {
  it('== `netstat -gn` run now', async () => {
    const v4 = await readIgmp(LIVE);
    const v6 = await readIgmp6(LIVE);
    const out = run('netstat', ['-gn']);
    if (out === null) return;
    expect([...v4.data, ...v6.data].map(netstatGRow)).toEqual(tableRows(out, 'Interface'));
  });
});
