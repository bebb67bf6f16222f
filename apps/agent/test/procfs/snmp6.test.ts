import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSnmp6, readSnmp6, splitSnmp6Name } from '../../src/procfs/snmp6.js';
import { snmpCounters } from '../../src/procfs/snmp.js';
import { PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText, nonEmptyLines } from './nethelpers.js';

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
