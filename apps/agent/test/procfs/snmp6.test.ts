import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { forgetSnmp6Layouts, parseSnmp6, readSnmp6, splitSnmp6Name } from '../../src/procfs/snmp6.js';
import { snmpCounters } from '../../src/procfs/snmp.js';
import { PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText, nonEmptyLines, oneCharOff } from './nethelpers.js';

describe('splitSnmp6Name', () => {
  it.each([
    ['Ip6InReceives', ['Ip6', 'InReceives']],
    ['Icmp6InMsgs', ['Icmp6', 'InMsgs']],
    ['Icmp6InType133', ['Icmp6', 'InType133']],
    ['Icmp6OutType1', ['Icmp6', 'OutType1']],
    ['Udp6InDatagrams', ['Udp6', 'InDatagrams']],
    ['UdpLite6InDatagrams', ['UdpLite6', 'InDatagrams']],
    ['ifIndex', null],
    ['6InReceives', null],
    ['Ip6', null],
    ['Ip-6X', null],
  ])('%s', (name, want) => expect(splitSnmp6Name(name)).toEqual(want));
});

describe('parseSnmp6', () => {
  it('splits the group out of each name, tabs and padding included', () => {
    const p = parseSnmp6('Ip6InReceives                   \t1\nIcmp6InType1                    \t2\nUdpLite6InDatagrams             \t0\n');
    expect(p.badLines).toBe(0);
    expect(snmpCounters(p.records)).toEqual({ Ip6: { InReceives: 1 }, Icmp6: { InType1: 2 }, UdpLite6: { InDatagrams: 0 } });
  });

  it('values past 2^32 exact; CRLF; empty file', () => {
    expect(parseSnmp6('Ip6InOctets 9007199254740991\r\n').records[0]!.counters).toEqual({ InOctets: 9007199254740991 });
    expect(parseSnmp6('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });

  it.each([
    ['three fields', 'Ip6InReceives 1 2', /3 fields/],
    ['name only', 'Ip6InReceives', /1 fields/],
    ['non-numeric', 'Ip6InReceives many', /non-numeric value "many"/],
    ['no prefix (a dev_snmp6 ifIndex line)', 'ifIndex 2', /no protocol prefix in "ifIndex"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const p = parseSnmp6(`Ip6InDelivers 5\n${line}\nUdp6InErrors 0\n`);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
    expect(snmpCounters(p.records)).toEqual({ Ip6: { InDelivers: 5 }, Udp6: { InErrors: 0 } });
  });

  it('never throws on garbage; generated lines round-trip', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseSnmp6(t);
        expect(p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom('Ip6', 'Icmp6', 'Udp6', 'UdpLite6'), fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,20}$/), fc.maxSafeNat()), {
          selector: ([g, k]) => g + k,
          maxLength: 40,
        }),
        (rows) => {
          const p = parseSnmp6(rows.map(([g, k, v]) => `${(g + k).padEnd(32)}\t${v}\n`).join(''));
          expect(p.badLines).toBe(0);
          const c = snmpCounters(p.records);
          for (const [g, k, v] of rows) expect(c[g]?.[k]).toBe(v);
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it.each(['debian-live', 'crafted'])('%s: groups Ip6, Icmp6, Udp6, UdpLite6, nothing skipped', async (scenario) => {
    expect(parseSnmp6(fixtureText(scenario, 'net/snmp6')).badLines).toBe(0);
    const { data, status } = await readSnmp6(fixtureRoots(scenario));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(Object.keys(data)).toEqual(['Ip6', 'Icmp6', 'Udp6', 'UdpLite6']);
  });

  it('crafted: Ip6InReceives past 2^32', async () => {
    expect((await readSnmp6(fixtureRoots('crafted'))).data['Ip6']?.['InReceives']).toBe(8589934592);
  });
});

// parseSnmp6 reads a text whose lines it has seen parse clean straight along their names; anything
// else takes the general parse. Both must give the same answer for every text.
describe('parseSnmp6: the layout of a clean text', () => {
  const general = (text: string) => {
    forgetSnmp6Layouts();
    const p = parseSnmp6(text);
    forgetSnmp6Layouts();
    return p;
  };
  const BASE = 'Ip6InReceives                   \t12\nIp6InHdrErrors                  \t0\nIcmp6InMsgs                     \t9007199254740991\nUdp6InDatagrams                 \t-1\nIp6OutRequests                  \t7\n';

  it.each([
    ['debian-live', () => fixtureText('debian-live', 'net/snmp6')],
    ['crafted', () => fixtureText('crafted', 'net/snmp6')],
    ['live', () => readFileSync('/proc/net/snmp6', 'utf8')],
  ])('%s: read again along its layout, the same records', (n, text) => {
    const t = text();
    const first = general(t);
    expect(first.badLines).toBe(0);
    parseSnmp6(t); // learns the layout
    expect(parseSnmp6(t)).toEqual(first);
    if (n === 'live') {
      const next = readFileSync('/proc/net/snmp6', 'utf8');
      expect(parseSnmp6(next)).toEqual(general(next));
    }
  });

  it('a text one character off a known layout reads as the general parse reads it', () => {
    const chars = [' ', '\t', '-', '+', 'x', '.', '0', '9', '\r', '\n', '6', 'e'];
    fc.assert(
      fc.property(oneCharOff(BASE, chars), (text) => {
        const want = general(text);
        parseSnmp6(BASE); // the layout of the clean text is known
        expect(parseSnmp6(text)).toEqual(want);
      }),
      PROPERTY_RUNS,
    );
  });

  it.each([
    ['a line more', 'Ip6OutNoRoutes                  \t3\n'],
    ['a blank line', '\n'],
    ['garbage', 'junk'],
    ['a bad line', 'Ip6InDiscards x\n'],
  ])('a known layout with %s after it reads as the general parse reads it', (_n, tail) => {
    parseSnmp6(BASE);
    expect(parseSnmp6(BASE + tail)).toEqual(general(BASE + tail));
  });

  it('new values under the same names: the same records as the general parse', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), { minLength: 5, maxLength: 5 }), (values) => {
        let k = 0;
        const text = BASE.replace(/\t-?\d+\n/g, () => `\t${values[k++]}\n`);
        parseSnmp6(BASE);
        expect(parseSnmp6(text)).toEqual(general(text));
      }),
      PROPERTY_RUNS,
    );
  });
});
