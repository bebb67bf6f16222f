import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { forgetSnmpLayouts, parseSnmp, readSnmp, snmpCounters } from '../../src/procfs/snmp.js';
import { readSnmp6 } from '../../src/procfs/snmp6.js';
import { LIVE, NSTAT_SKIPS, PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText, haveTool, nonEmptyLines, nstatCounters, oneCharOff, run } from './nethelpers.js';

const TCP = 'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\nTcp: 1 200 120000 -1 65\n';
const UDP = 'Udp: InDatagrams NoPorts\nUdp: 129 0\n';

describe('parseSnmp: good input', () => {
  it('pairs header and value lines into groups, negatives included', () => {
    const p = parseSnmp(TCP + UDP);
    expect(p.badLines).toBe(0);
    expect(snmpCounters(p.records)).toEqual({
      Tcp: { RtoAlgorithm: 1, RtoMin: 200, RtoMax: 120000, MaxConn: -1, ActiveOpens: 65 },
      Udp: { InDatagrams: 129, NoPorts: 0 },
    });
  });

  it('values past 2^32 and up to 2^53 are exact', () => {
    const p = parseSnmp(`IpExt: InOctets OutOctets\nIpExt: 9007199254740991 4294967301\n`);
    expect(p.records[0]!.counters).toEqual({ InOctets: 9007199254740991, OutOctets: 4294967301 });
  });

  it('a single-counter group (IcmpMsg: InType3)', () => {
    expect(snmpCounters(parseSnmp('IcmpMsg: InType3\nIcmpMsg: 1\n').records)).toEqual({ IcmpMsg: { InType3: 1 } });
  });

  it('a repeated group is merged', () => {
    expect(snmpCounters(parseSnmp('A: x\nA: 1\nA: y\nA: 2\n').records)).toEqual({ A: { x: 1, y: 2 } });
  });

  it('a hostile name stays an ordinary key', () => {
    const c = snmpCounters(parseSnmp('__proto__: constructor __proto__\n__proto__: 1 2\n').records);
    expect(Object.keys(c)).toEqual(['__proto__']);
    expect(Object.keys(c['__proto__']!)).toEqual(['constructor', '__proto__']);
    expect(({} as Record<string, unknown>)['constructor']).toBe(Object); // Object.prototype untouched
  });

  it('CRLF, empty file', () => {
    expect(parseSnmp((TCP + UDP).replace(/\n/g, '\r\n')).records).toHaveLength(2);
    expect(parseSnmp('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });
});

describe('parseSnmp: malformed input keeps the other groups', () => {
  it.each([
    ['mismatched counts', 'Ip: A B C\nIp: 1 2\n', 1, /3 names but 2 values/],
    ['non-numeric value', 'Ip: A B\nIp: 1 x\n', 1, /non-numeric value "x" for Ip.B/],
    ['value line without header', 'Ip: 1 2 3\n', 1, /value line without a header/],
    ['header without values (end of file)', 'Ip: A B\n', 1, /header without a value line/],
    ['header followed by another group', 'Ip: A B\nIcmp: C\nIcmp: 3\n', 1, /header without a value line/],
    ['no group prefix', 'garbage here\n', 1, /no "Group:" prefix/],
    ['header only (value line lost)', 'Ip: Forwarding DefaultTTL\n', 1, /header without/],
    ['float', 'Ip: A\nIp: 1.5\n', 1, /non-numeric value "1.5"/],
  ])('%s', (_n, bad, count, reason) => {
    const p = parseSnmp(TCP + bad + UDP);
    expect(p.badLines).toBe(count);
    expect(p.sample).toMatch(reason);
    const c = snmpCounters(p.records);
    expect(c['Tcp']?.['MaxConn']).toBe(-1);
    expect(c['Udp']?.['InDatagrams']).toBe(129);
  });
});

describe('parseSnmp: properties', () => {
  it('never throws on garbage; bad lines never exceed lines', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseSnmp(t);
        expect(p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
        expect(p.records.length * 2 + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
  });

  it('generated groups round-trip', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,20}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,10}$/), fc.uniqueArray(fc.tuple(name, fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })), { minLength: 1, maxLength: 30, selector: ([n]) => n })), {
          maxLength: 8,
          selector: ([g]) => g,
        }),
        (groups) => {
          const text = groups.map(([g, kv]) => `${g}: ${kv.map(([k]) => k).join(' ')}\n${g}: ${kv.map(([, v]) => v).join(' ')}\n`).join('');
          const p = parseSnmp(text);
          expect(p.badLines).toBe(0);
          expect(snmpCounters(p.records)).toEqual(Object.fromEntries(groups.map(([g, kv]) => [g, Object.fromEntries(kv)])));
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it.each(['debian-live', 'crafted'])('%s: snmp and netstat parse clean', async (scenario) => {
    for (const file of ['snmp', 'netstat'] as const) {
      const p = parseSnmp(fixtureText(scenario, `net/${file}`));
      expect(p.badLines).toBe(0);
    }
    const snmp = await readSnmp(fixtureRoots(scenario), 'snmp');
    const netstat = await readSnmp(fixtureRoots(scenario), 'netstat');
    expect(snmp.status.state).toBe('ok');
    expect(Object.keys(snmp.data)).toEqual(['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite']);
    expect(Object.keys(netstat.data)).toEqual(['TcpExt', 'IpExt', 'MPTcpExt']);
    expect(snmp.data['Tcp']?.['MaxConn']).toBe(-1);
  });

  it('crafted: counters past 2^32 exact', async () => {
    const { data } = await readSnmp(fixtureRoots('crafted'));
    expect(data['Ip']?.['InReceives']).toBe(9007199254740991);
    expect(data['Udp']?.['InDatagrams']).toBe(4294967301);
    const ext = await readSnmp(fixtureRoots('crafted'), 'netstat');
    expect(ext.data['IpExt']?.['InOctets']).toBe(123456789012345);
    expect(ext.data['TcpExt']?.['ListenOverflows']).toBe(321);
  });
});

describe.runIf(haveTool('nstat'))('live /proc/net/snmp, netstat, snmp6', () => {
  it('every counter `nstat -asz` reports, under the same name, values within a small tolerance', async () => {
    const before = [await readSnmp(LIVE, 'snmp'), await readSnmp(LIVE, 'netstat'), await readSnmp6(LIVE)];
    const out = run('nstat', ['-asz']);
    if (out === null) return;
    const ours = new Map<string, number>();
    for (const { data, status } of before) {
      if (status.state === 'missing') continue;
      expect(status.state).toBe('ok');
      for (const [g, kv] of Object.entries(data)) for (const [k, v] of Object.entries(kv)) ours.set(`${g}${k}`, v);
    }
    const theirs = nstatCounters(out);
    const missing = [...theirs.keys()].filter((k) => !ours.has(k));
    expect(missing).toEqual([]);
    const extra = [...ours.keys()].filter((k) => !theirs.has(k) && !NSTAT_SKIPS.has(k));
    expect(extra).toEqual([]);
    // Counters move between our read and nstat's: theirs ≥ ours, and not by much for slow ones.
    for (const key of ['IpInReceives', 'TcpActiveOpens', 'UdpInDatagrams', 'Ip6InReceives']) {
      if (!theirs.has(key)) continue;
      expect(theirs.get(key)!).toBeGreaterThanOrEqual(ours.get(key)!);
      expect(theirs.get(key)! - ours.get(key)!).toBeLessThan(10_000);
    }
  });
});

// parseSnmp reads a text whose header lines it has seen parse clean straight along them; anything
// else takes the general parse. Both must give the same answer for every text.
describe('parseSnmp: the layout of a clean text', () => {
  const general = (text: string) => {
    forgetSnmpLayouts();
    const p = parseSnmp(text);
    forgetSnmpLayouts();
    return p;
  };

  it.each([
    ['debian-live snmp', () => fixtureText('debian-live', 'net/snmp')],
    ['debian-live netstat', () => fixtureText('debian-live', 'net/netstat')],
    ['crafted snmp', () => fixtureText('crafted', 'net/snmp')],
    ['crafted netstat', () => fixtureText('crafted', 'net/netstat')],
    ['live snmp', () => readFileSync('/proc/net/snmp', 'utf8')],
    ['live netstat', () => readFileSync('/proc/net/netstat', 'utf8')],
  ])('%s: read again along its layout, the same records', (_n, text) => {
    const t = text();
    const first = general(t);
    expect(first.badLines).toBe(0);
    parseSnmp(t); // learns the layout
    expect(parseSnmp(t)).toEqual(first);
    // the next read of a live file: new values, the same layout
    if (_n.startsWith('live')) {
      const next = readFileSync(`/proc/net/${_n.slice(5)}`, 'utf8');
      expect(parseSnmp(next)).toEqual(general(next));
    }
  });

  it('a text one character off a known layout reads as the general parse reads it', () => {
    const base = TCP + 'Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 9007199254740991\n' + UDP;
    const chars = [' ', '\t', '-', '+', 'x', '.', '0', '9', '\r', '\n', ':', 'e'];
    fc.assert(
      fc.property(oneCharOff(base, chars), (text) => {
        const want = general(text);
        parseSnmp(base); // the layout of the clean text is known
        expect(parseSnmp(text)).toEqual(want);
      }),
      PROPERTY_RUNS,
    );
  });

  it.each([
    ['a group more', 'Icmp: InMsgs\nIcmp: 4\n'],
    ['a blank line', '\n'],
    ['garbage', 'junk'],
    ['a header without values', 'Icmp: InMsgs\n'],
  ])('a known layout with %s after it reads as the general parse reads it', (_n, tail) => {
    const base = TCP + UDP;
    parseSnmp(base);
    expect(parseSnmp(base + tail)).toEqual(general(base + tail));
  });

  it('generated texts: the second read equals the first', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,12}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,8}$/), fc.uniqueArray(fc.tuple(name, fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })), { minLength: 1, maxLength: 20, selector: ([n]) => n })), {
          minLength: 1,
          maxLength: 6,
          selector: ([g]) => g,
        }),
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        (groups, later) => {
          const text = (values: (v: number) => number) =>
            groups.map(([g, kv]) => `${g}: ${kv.map(([k]) => k).join(' ')}\n${g}: ${kv.map(([, v]) => values(v)).join(' ')}\n`).join('');
          const first = general(text((v) => v));
          parseSnmp(text((v) => v));
          // the next read: other values under the same headers
          expect(parseSnmp(text(() => later))).toEqual(general(text(() => later)));
          expect(first.badLines).toBe(0);
        },
      ),
      PROPERTY_RUNS,
    );
  });
});
