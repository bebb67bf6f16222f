import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSockstat, readSockstat, sockStatOf, tablesCountedEmpty } from '../../src/procfs/sockstat.js';
import { LIVE, PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText, haveTool, nonEmptyLines, run } from './nethelpers.js';

describe('parseSockstat', () => {
  it('reads name/value pairs per protocol', () => {
    const p = parseSockstat('sockets: used 11\nTCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\nFRAG: inuse 0 memory 0\n');
    expect(p.badLines).toBe(0);
    expect(sockStatOf(p.records)).toEqual({
      sockets: { used: 11 },
      TCP: { inuse: 5, orphan: 0, tw: 2, alloc: 7, mem: 1 },
      FRAG: { inuse: 0, memory: 0 },
    });
  });

  it('sockstat6 groups are already TCP6 …; both files merge without renaming', () => {
    const v4 = sockStatOf(parseSockstat('TCP: inuse 5\n').records);
    const v6 = sockStatOf(parseSockstat('TCP6: inuse 3\nUDP6: inuse 1\n').records);
    expect({ ...v4, ...v6 }).toEqual({ TCP: { inuse: 5 }, TCP6: { inuse: 3 }, UDP6: { inuse: 1 } });
  });

  it('CRLF, empty file', () => {
    expect(parseSockstat('TCP: inuse 5\r\n').records).toHaveLength(1);
    expect(parseSockstat('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });

  it.each([
    ['odd token count', 'TCP: inuse 5 orphan', /3 tokens after the prefix/],
    ['prefix only', 'TCP:', /0 tokens/],
    ['no prefix', 'inuse 5', /no "PROTO:" prefix/],
    ['non-numeric value', 'TCP: inuse five', /non-numeric value "five" for inuse/],
    ['value where a name should be', 'TCP: 5 5', /numeric name "5"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const p = parseSockstat(`sockets: used 1\n${line}\nRAW: inuse 0\n`);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
    expect(p.records).toHaveLength(2);
  });

  it('never throws on garbage; generated lines round-trip', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseSockstat(t);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z][A-Z0-9]{0,8}$/),
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z_]{0,10}$/), fc.maxSafeNat()), { minLength: 1, maxLength: 8, selector: ([k]) => k }),
        (group, kv) => {
          const p = parseSockstat(`${group}: ${kv.map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
          expect(sockStatOf(p.records)).toEqual({ [group]: Object.fromEntries(kv) });
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it.each(['debian-live', 'crafted'])('%s: sockstat and sockstat6 parse clean', async (scenario) => {
    for (const f of ['sockstat', 'sockstat6']) expect(parseSockstat(fixtureText(scenario, `net/${f}`)).badLines).toBe(0);
    const v4 = await readSockstat(fixtureRoots(scenario), 'sockstat');
    const v6 = await readSockstat(fixtureRoots(scenario), 'sockstat6');
    expect(Object.keys(v4.data)).toEqual(['sockets', 'TCP', 'UDP', 'UDPLITE', 'RAW', 'FRAG']);
    expect(Object.keys(v6.data)).toEqual(['TCP6', 'UDP6', 'UDPLITE6', 'RAW6', 'FRAG6']);
  });

  it('crafted: a busy server', async () => {
    const { data } = await readSockstat(fixtureRoots('crafted'));
    expect(data['TCP']).toEqual({ inuse: 20114, orphan: 12, tw: 15873, alloc: 20410, mem: 9317 });
  });
});

describe.runIf(haveTool('ss'))('live /proc/net/sockstat', () => {
  it('sockets used ≈ `ss -s` Total (sockets come and go between the reads)', async () => {
    const before = await readSockstat(LIVE);
    const out = run('ss', ['-s']);
    const after = await readSockstat(LIVE);
    expect(before.status.state).toBe('ok');
    const total = out === null ? null : /^Total:\s+(\d+)/m.exec(out)?.[1];
    if (total == null) return;
    const a = before.data['sockets']!['used']!;
    const b = after.data['sockets']!['used']!;
    const slack = 100 + Math.abs(b - a) + 0.05 * Math.max(a, b);
    expect(Number(total)).toBeGreaterThanOrEqual(Math.min(a, b) - slack);
    expect(Number(total)).toBeLessThanOrEqual(Math.max(a, b) + slack);
  });
});

describe('tablesCountedEmpty', () => {
  const stat = (text: string) => sockStatOf(parseSockstat(text).records);

  it('a captured Debian machine with one TCP socket: every UDP, UDP-Lite and raw table counted empty', () => {
    const v4 = stat(fixtureText('debian-live', 'net/sockstat'));
    const v6 = stat(fixtureText('debian-live', 'net/sockstat6'));
    expect([...tablesCountedEmpty({ ...v4, ...v6 })].sort()).toEqual(['raw', 'raw6', 'udp', 'udp6', 'udplite', 'udplite6']);
  });

  it('a table with sockets, or whose group or inuse is missing, is read', () => {
    const s = stat('UDP: inuse 3 mem 1\nRAW: inuse 0\nTCP: inuse 0\nUDPLITE: mem 0\n');
    // UDP counts 3; UDPLITE has no inuse; sockstat6 was not read (no UDP6/RAW6/UDPLITE6); TCP is never skipped
    expect([...tablesCountedEmpty(s)]).toEqual(['raw']);
    expect(tablesCountedEmpty({}).size).toBe(0);
  });

  it('a malformed line counts nothing: its group is left out, so its table is read', () => {
    const p = parseSockstat('UDP: inuse x\nUDP6: inuse 0\n');
    expect(p.badLines).toBe(1);
    expect([...tablesCountedEmpty(sockStatOf(p.records))]).toEqual(['udp6']);
  });
});
