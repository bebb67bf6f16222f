import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Route } from '@netscope/shared';
import { ipv6RouteFlagLetters, parseIpv6Route, readIpv6Route } from '../../src/procfs/ipv6_route.js';
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

const Z = '00000000000000000000000000000000';
const line = (dest: string, plen: string, nh: string, metric: string, ref: string, use: string, flags: string, dev: string, src = Z, splen = '00'): string =>
  `${dest} ${plen} ${src} ${splen} ${nh} ${metric} ${ref} ${use} ${flags} ${dev.padStart(8)}`;

/** A row as `netstat -rn -6` prints it (net-tools 2.10 lib/inet6_gr.c): metric with %d. */
function netstat6Row(r: Route): string[] {
  return [`${r.destination}/${r.prefixLen}`, r.gateway, r.flags, String(r.metric | 0), String(r.refCount), String(r.use), r.iface];
}

/** `ip -6 route show table all` lines → `dest via dev metric` keys, as comparable sets. */
function ipRouteKeys(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const t = l.trim().split(/\s+/);
      if (['local', 'multicast', 'unreachable', 'prohibit', 'blackhole', 'broadcast', 'anycast', 'throw'].includes(t[0]!)) t.shift();
      let dest = t[0]!;
      if (dest === 'default') dest = '::/0';
      if (!dest.includes('/')) dest += '/128';
      const at = (k: string): string | undefined => {
        const i = t.indexOf(k);
        return i >= 0 ? t[i + 1] : undefined;
      };
      return `${dest} via ${at('via') ?? '::'} dev ${at('dev') ?? '?'} metric ${at('metric') ?? '0'}`;
    })
    .sort();
}

function ourKeys(routes: Route[]): string[] {
  return routes
    .filter((r) => !(r.flags.includes('!') && r.iface === 'lo' && r.metric === 0xffffffff)) // ip6_null_entry: ip never shows it
    .filter((r) => !r.flags.includes('C'))
    .map((r) => `${r.destination}/${r.prefixLen} via ${r.gateway} dev ${r.iface} metric ${r.metric}`)
    .sort();
}

describe('ipv6RouteFlagLetters', () => {
  it.each([
    [0x00000001, 'U'],
    [0x00000003, 'UG'],
    [0x80200001, 'Un'],
    [0x00200200, '!n'],
    [0x00200201, 'U!n'],
    [0x00450003, 'UGDAe'],
    [0x00440001, 'UAe'],
    [0x01000007, 'UGHC'],
    [0x00020001, 'Ua'],
    [0x00000021, 'Um'],
    [0x02000001, 'Uf'],
  ])('%s → %s', (flags, letters) => {
    expect(ipv6RouteFlagLetters(flags)).toBe(letters);
  });
});

describe('parseIpv6Route: good lines', () => {
  it('reads the 16 bytes in network order (unlike tcp6) and every number as hex', () => {
    const p = parseIpv6Route(
      line('fe800000000000000000000000000000', '40', Z, '00000100', '00000002', '00000000', '00000001', 'eth0') +
        '\n' +
        line(Z, '00', 'fd000000000000000000000000000001', '00000400', '00000002', '00000000', '00000003', 'eth0') +
        '\n',
    );
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual<Route[]>([
      {
        family: 6, iface: 'eth0', destination: 'fe80::', prefixLen: 64, genmask: null, gateway: '::', source: '::',
        sourcePrefixLen: 0, flags: 'U', flagsRaw: 1, metric: 256, refCount: 2, use: 0, mss: null, window: null, irtt: null,
        isDefault: false,
      },
      {
        family: 6, iface: 'eth0', destination: '::', prefixLen: 0, genmask: null, gateway: 'fd00::1', source: '::',
        sourcePrefixLen: 0, flags: 'UG', flagsRaw: 3, metric: 1024, refCount: 2, use: 0, mss: null, window: null, irtt: null,
        isDefault: true,
      },
    ]);
  });

  it.each([
    ['::1 host route', line('00000000000000000000000000000001', '80', Z, '00000000', '00000002', '00000000', '80200001', 'lo'), { destination: '::1', prefixLen: 128, flags: 'Un' }],
    ['the null entry is not a default route', line(Z, '00', Z, 'ffffffff', '00000001', '00000000', '00200200', 'lo'), { metric: 0xffffffff, flags: '!n', isDefault: false }],
    ['link-local address compresses the longest zero run', line('fe8000000000000000fc00fffe000001', '80', Z, '00000000', '00000002', '00000000', '80200001', 'eth0'), { destination: 'fe80::fc:ff:fe00:1' }],
    ['source-specific route', line('20010db8000200000000000000000000', '40', '20010db8000000000000000000000001', '00000400', '00000001', '00000000', '00000003', 'eth0', '20010db8000300000000000000000000', '38'), { source: '2001:db8:3::', sourcePrefixLen: 56, gateway: '2001:db8::1' }],
    ['v4-mapped keeps a dotted tail', line('00000000000000000000ffff00000000', '60', Z, '00000400', '00000001', '00000000', '00000001', 'eth0'), { destination: '::ffff:0.0.0.0', prefixLen: 96 }],
    ['upper-case hex', line('FE800000000000000000000000000000', '40', Z, '00000100', '00000001', '00000000', '00000001', 'eth0'), { destination: 'fe80::' }],
    ['15-char device', line('fe800000000000000000000000000000', '40', Z, '00000100', '00000001', '00000000', '00000001', 'br-0123456789ab'), { iface: 'br-0123456789ab' }],
  ])('%s', (_name, l, expected) => {
    const p = parseIpv6Route(l + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records[0]).toMatchObject(expected);
  });

  it('CRLF and an empty file', () => {
    expect(parseIpv6Route(line(Z, '00', Z, '00000400', '00000001', '00000000', '00000001', 'eth0') + '\r\n').records).toHaveLength(1);
    expect(parseIpv6Route('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });
});

describe('parseIpv6Route: malformed input', () => {
  const good = line(Z, '00', Z, '00000400', '00000001', '00000000', '00000001', 'eth0');
  it.each([
    ['truncated', good.slice(0, 80), /fields, want 10/],
    ['extra field', `${good} extra`, /11 fields/],
    ['garbage', 'hello world', /2 fields/],
    ['31-digit address', line(Z.slice(1), '00', Z, '00000400', '00000001', '00000000', '00000001', 'eth0'), /bad destination/],
    ['non-hex next hop', line(Z, '00', 'g'.repeat(32), '00000400', '00000001', '00000000', '00000001', 'eth0'), /bad next hop/],
    ['prefix over 128', line(Z, '81', Z, '00000400', '00000001', '00000000', '00000001', 'eth0'), /bad prefix length "81"/],
    ['non-hex metric', line(Z, '00', Z, 'metric!!', '00000001', '00000000', '00000001', 'eth0'), /bad metric/],
    ['9-digit flags', line(Z, '00', Z, '00000400', '00000001', '00000000', '100000001', 'eth0'), /bad flags/],
  ])('%s is skipped and counted', (_name, l, reason) => {
    const p = parseIpv6Route(`${good}\n${l}\n${good}\n`);
    expect(p.records).toHaveLength(2);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });
});

describe('parseIpv6Route: properties', () => {
  it('never throws on garbage and counts every skipped line', () => {
    fc.assert(
      fc.property(garbageText, (text) => {
        const p = parseIpv6Route(text);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(text));
      }),
      PROPERTY_RUNS,
    );
  });

  it('generated lines round-trip', () => {
    const bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const h8 = (n: number): string => n.toString(16).padStart(8, '0');
    fc.assert(
      fc.property(
        bytes, fc.integer({ min: 0, max: 128 }), bytes, fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }), fc.nat({ max: 0xffffffff }),
        fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/),
        (dest, plen, nh, metric, ref, flags, dev) => {
          const p = parseIpv6Route(line(hex(dest), plen.toString(16).padStart(2, '0'), hex(nh), h8(metric), h8(ref), h8(0), h8(flags), dev));
          expect(p.badLines).toBe(0);
          expect(p.records[0]).toMatchObject({ destination: formatIpv6(dest), prefixLen: plen, gateway: formatIpv6(nh), metric, refCount: ref, flagsRaw: flags, iface: dev });
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures against net-tools and iproute2', () => {
  it.each(['debian-live', 'crafted'])('%s: parse == captured `netstat -rn -6` (cache entries are not listed there)', (scenario) => {
    const p = parseIpv6Route(fixtureText(scenario, 'net/ipv6_route'));
    expect(p.badLines).toBe(0);
    const rows = p.records.filter((r) => !r.flags.includes('C')).map(netstat6Row);
    expect(rows).toEqual(tableRows(commandOutput(scenario, 'netstat-rn6.txt'), 'Destination'));
  });

  it('debian-live: parse == captured `ip -6 route show table all`, but for the kernel null entry', () => {
    const p = parseIpv6Route(fixtureText('debian-live', 'net/ipv6_route'));
    expect(ourKeys(p.records)).toEqual(ipRouteKeys(commandOutput('debian-live', 'ip-6-route-all.txt')));
  });

  it('crafted: RA default route, addrconf prefix with expiry, the reject route', async () => {
    const { data, status } = await readIpv6Route(fixtureRoots('crafted'));
    expect(status.state).toBe('ok');
    expect(data.filter((r) => r.isDefault)).toMatchObject([{ gateway: 'fe80::1', flags: 'UGDAe', metric: 1024 }]);
    expect(data.find((r) => r.destination === '2001:db8:dead::')).toMatchObject({ prefixLen: 48, flags: 'U!n' });
  });
});

describe.runIf(haveTool('ip') || haveTool('netstat'))('live /proc/net/ipv6_route', () => {
  it('matches `netstat -rn -6` and `ip -6 route show table all` run now', async () => {
    const { data, status } = await readIpv6Route(LIVE);
    if (status.state === 'missing') return; // IPv6 disabled
    expect(status.state).toBe('ok');
    const ns = run('netstat', ['-rn', '-6']);
    if (ns !== null) expect(data.filter((r) => !r.flags.includes('C')).map(netstat6Row)).toEqual(tableRows(ns, 'Destination'));
    const ip = run('ip', ['-6', 'route', 'show', 'table', 'all']);
    if (ip !== null) expect(ourKeys(data)).toEqual(ipRouteKeys(ip));
  });
});
