import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Route } from '@netscope/shared';
import { parseRoute, readRoute, routeFlagLetters } from '../../src/procfs/route.js';
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

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ';
const pad = (l: string): string => l.padEnd(127, ' ');
const table = (...rows: string[]): string => [HEADER, ...rows.map(pad)].join('\n') + '\n';

/** A row as `route -n` prints it (net-tools lib/inet_gr.c, ext 1). */
function routeNRow(r: Route): string[] {
  const reject = r.flags.startsWith('!');
  return [r.destination, reject ? '-' : r.gateway, r.genmask ?? '', r.flags, String(r.metric), reject ? '-' : String(r.refCount), String(r.use), reject ? '-' : r.iface];
}

/** A row as `netstat -rn` prints it (ext 2: MSS Window irtt). */
function netstatRnRow(r: Route): string[] {
  const reject = r.flags.startsWith('!');
  if (reject) return [r.destination, '-', r.genmask ?? '', r.flags, '-', '-', '-', '-'];
  return [r.destination, r.gateway, r.genmask ?? '', r.flags, String(r.mss), String(r.window), String(r.irtt), r.iface];
}

describe('routeFlagLetters', () => {
  it.each([
    [0x0001, 'U'],
    [0x0003, 'UG'],
    [0x0005, 'UH'],
    [0x0007, 'UGH'],
    [0x0037, 'UGHDM'],
    [0x0009, 'UR'],
    [0x0201, '!'],
    [0x0203, '!'],
    [0x0205, '!H'],
    [0x0000, ''],
  ])('%s → %s', (flags, letters) => {
    expect(routeFlagLetters(flags)).toBe(letters);
  });
});

describe('parseRoute: good lines', () => {
  it('reads the default route, a connected net and prefix lengths from the mask', () => {
    const p = parseRoute(
      table(
        'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
        'eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t1500\t0\t0',
      ),
    );
    expect(p.badLines).toBe(0);
    expect(p.message).toBeNull();
    expect(p.records).toEqual<Route[]>([
      {
        family: 4, iface: 'eth0', destination: '0.0.0.0', prefixLen: 0, genmask: '0.0.0.0', gateway: '192.0.2.1',
        source: null, sourcePrefixLen: null, flags: 'UG', flagsRaw: 3, metric: 0, refCount: 0, use: 0,
        mss: 0, window: 0, irtt: 0, isDefault: true,
      },
      {
        family: 4, iface: 'eth0', destination: '192.0.2.0', prefixLen: 24, genmask: '255.255.255.0', gateway: '0.0.0.0',
        source: null, sourcePrefixLen: null, flags: 'U', flagsRaw: 1, metric: 100, refCount: 0, use: 0,
        mss: 1500, window: 0, irtt: 0, isDefault: false,
      },
    ]);
  });

  it.each([
    ['host route', 'eth0\t0100007F\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0', { destination: '127.0.0.1', prefixLen: 32, flags: 'UH' }],
    ['reject route on *', '*\t006433C6\t00000000\t0201\t0\t0\t0\t00FFFFFF\t0\t0\t0', { iface: '*', flags: '!', isDefault: false }],
    ['unreachable default is not a default', '*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0', { isDefault: false, prefixLen: 0 }],
    ['/1 mask', 'eth0\t00000080\t00000000\t0001\t0\t0\t0\t00000080\t0\t0\t0', { destination: '128.0.0.0', prefixLen: 1 }],
    ['/31 mask', 'eth0\t0000000A\t00000000\t0001\t0\t0\t0\tFEFFFFFF\t0\t0\t0', { prefixLen: 31, genmask: '255.255.255.254' }],
    ['lower-case hex', 'eth0\t0001a8c0\t00000000\t0001\t0\t0\t0\t00ffffff\t0\t0\t0', { destination: '192.168.1.0', prefixLen: 24 }],
    ['15-char interface name', 'br-0123456789ab\t000012AC\t00000000\t0001\t0\t0\t425\t0000FFFF\t0\t0\t0', { iface: 'br-0123456789ab', metric: 425 }],
    ['negative metric', 'eth0\t000200C0\t00000000\t0001\t0\t0\t-1\t00FFFFFF\t0\t0\t0', { metric: -1 }],
    ['no trailing padding', 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', { prefixLen: 24 }],
  ])('%s', (_name, line, expected) => {
    const p = parseRoute(`${HEADER}\n${line}\n`);
    expect(p.badLines).toBe(0);
    expect(p.records[0]).toMatchObject(expected);
  });

  it('finds columns by header name, as net-tools does', () => {
    const text = 'Destination\tIface\tMask\tGateway\tFlags\tMetric\tUse\tRefCnt\n000200C0\teth0\t00FFFFFF\t00000000\t0001\t7\t3\t1\n';
    const p = parseRoute(text);
    expect(p.records).toHaveLength(1);
    expect(p.records[0]).toMatchObject({ destination: '192.0.2.0', iface: 'eth0', prefixLen: 24, metric: 7, use: 3, refCount: 1, mss: null, window: null, irtt: null });
  });

  it('tolerates CRLF line ends', () => {
    const p = parseRoute(table('eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0').replace(/\n/g, '\r\n'));
    expect(p.badLines).toBe(0);
    expect(p.records).toHaveLength(1);
  });

  it('header only is an empty table, not an error', () => {
    expect(parseRoute(`${HEADER}\n`)).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });
});

describe('parseRoute: malformed input', () => {
  it.each([
    ['truncated line', 'eth0\t000200C0\t00000000\t0001', /4 fields/],
    ['garbage', 'the quick brown fox', /fields/],
    ['non-hex destination', 'eth0\tZZ0200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', /bad destination "ZZ0200C0"/],
    ['short destination', 'eth0\t200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', /bad destination/],
    ['bad gateway', 'eth0\t000200C0\t0000000G\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0', /bad gateway/],
    ['bad mask', 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFF\t0\t0\t0', /bad mask/],
    ['non-contiguous mask', 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0', /non-contiguous mask "00FF00FF"/],
    ['bad flags', 'eth0\t000200C0\t00000000\tXYZ\t0\t0\t0\t00FFFFFF\t0\t0\t0', /bad flags "XYZ"/],
    ['non-numeric metric', 'eth0\t000200C0\t00000000\t0001\t0\t0\tten\t00FFFFFF\t0\t0\t0', /bad metric "ten"/],
    ['non-numeric use', 'eth0\t000200C0\t00000000\t0001\t0\tx\t0\t00FFFFFF\t0\t0\t0', /bad use "x"/],
    ['non-numeric MTU', 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\tbig\t0\t0', /bad mtu "big"/],
  ])('%s is skipped and counted', (_name, line, reason) => {
    const good = 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0';
    const p = parseRoute(table(good, line, good));
    expect(p.records).toHaveLength(2);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });

  it('an empty file has no header: whole-file message', () => {
    const p = parseRoute('');
    expect(p.records).toEqual([]);
    expect(p.message).toMatch(/empty/);
  });

  it('an unrecognised header is a whole-file message naming the missing columns', () => {
    const p = parseRoute('Foo\tBar\neth0\t000200C0\n');
    expect(p.records).toEqual([]);
    expect(p.message).toMatch(/unrecognised header .*Iface/);
  });

  it('the sample is truncated to 200 characters', () => {
    const p = parseRoute(table(`eth0\t${'Z'.repeat(500)}\t0\t0\t0\t0\t0\t0\t0\t0\t0`));
    expect(p.sample!.length).toBeLessThanOrEqual(200);
  });
});

describe('parseRoute: properties', () => {
  it('never throws on garbage and counts every skipped line', () => {
    fc.assert(
      fc.property(garbageText, (body) => {
        const p = parseRoute(`${HEADER}\n${body}`);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(body));
        expect(p.badLines === 0).toBe(p.sample === null);
      }),
      PROPERTY_RUNS,
    );
    fc.assert(fc.property(garbageText, (text) => void parseRoute(text)), PROPERTY_RUNS);
  });

  it('generated kernel lines round-trip', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet);
    const le = ([a, b, c, d]: number[]): number => ((d! << 24) | (c! << 16) | (b! << 8) | a!) >>> 0;
    const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');
    fc.assert(
      fc.property(
        fc.record({
          iface: fc.stringMatching(/^[a-z][a-z0-9.-]{0,14}$/),
          dest: ip,
          gw: ip,
          plen: fc.integer({ min: 0, max: 32 }),
          flags: fc.integer({ min: 0, max: 0xffff }),
          metric: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          mtu: fc.integer({ min: 0, max: 65535 }),
        }),
        ({ iface, dest, gw, plen, flags, metric, mtu }) => {
          const maskNet = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
          const maskBytes = [maskNet >>> 24, (maskNet >>> 16) & 255, (maskNet >>> 8) & 255, maskNet & 255];
          const line = `${iface}\t${hex(le(dest))}\t${hex(le(gw))}\t${flags.toString(16).toUpperCase().padStart(4, '0')}\t0\t0\t${metric}\t${hex(le(maskBytes))}\t${mtu}\t0\t0`;
          const p = parseRoute(table(line));
          expect(p.badLines).toBe(0);
          const r = p.records[0]!;
          expect(r.iface).toBe(iface);
          expect(r.destination).toBe(dest.join('.'));
          expect(r.gateway).toBe(gw.join('.'));
          expect(r.genmask).toBe(maskBytes.join('.'));
          expect(r.prefixLen).toBe(plen);
          expect(r.flagsRaw).toBe(flags);
          expect(r.flags).toBe(routeFlagLetters(flags));
          expect(r.metric).toBe(metric);
          expect(r.mss).toBe(mtu);
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures against net-tools', () => {
  it.each(['debian-live', 'crafted'])('%s: parse == captured `route -n` and `netstat -rn`', (scenario) => {
    const p = parseRoute(fixtureText(scenario, 'net/route'));
    expect(p.badLines).toBe(0);
    expect(p.records.map(routeNRow)).toEqual(tableRows(commandOutput(scenario, 'route-n.txt'), 'Destination'));
    expect(p.records.map(netstatRnRow)).toEqual(tableRows(commandOutput(scenario, 'netstat-rn.txt'), 'Destination'));
  });

  it('crafted: the default route, host, reject and dynamic routes', () => {
    const p = parseRoute(fixtureText('crafted', 'net/route'));
    expect(p.records.filter((r) => r.isDefault).map((r) => r.gateway)).toEqual(['192.168.1.1']);
    expect(p.records.find((r) => r.destination === '198.51.100.9')).toMatchObject({ flags: '!H', prefixLen: 32, iface: '*' });
    expect(p.records.find((r) => r.destination === '10.99.0.5')?.flags).toBe('UGHDM');
  });

  it('readRoute on a fixture root: ok status, timed', async () => {
    const { data, status } = await readRoute(fixtureRoots('crafted'));
    expect(data).toHaveLength(10);
    expect(status).toMatchObject({ state: 'ok', badLines: 0, message: null });
    expect(status.path).toMatch(/proc\/crafted\/net\/route$/);
    expect(status.ms).toBeGreaterThanOrEqual(0);
  });

  it('readRoute on a root without the file: missing, empty data', async () => {
    const { data, status } = await readRoute(fixtureRoots('no-such-scenario'));
    expect(data).toEqual([]);
    expect(status.state).toBe('missing');
  });
});

describe.runIf(haveTool('route') || haveTool('netstat'))('live /proc/net/route', () => {
  it('matches `route -n` and `netstat -rn` run now', async () => {
    const { data, status } = await readRoute(LIVE);
    expect(status.state).toBe('ok');
    const routeN = run('route', ['-n']);
    if (routeN !== null) expect(data.map(routeNRow)).toEqual(tableRows(routeN, 'Destination'));
    const netstatRn = run('netstat', ['-rn']);
    if (netstatRn !== null) expect(data.map(netstatRnRow)).toEqual(tableRows(netstatRn, 'Destination'));
  });
});
