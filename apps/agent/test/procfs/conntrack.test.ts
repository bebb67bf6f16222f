import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ConntrackEntry } from '@netscope/shared';
import { parseConntrack, readConntrack, scanConntrackLine } from '../../src/procfs/conntrack.js';
import { PROPERTY_RUNS, fixtureRoots, fixtureText, garbageText, nonEmptyLines } from './nethelpers.js';

const TCP =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=1.2.3.4 sport=5555 dport=443 src=1.2.3.4 dst=10.0.0.2 sport=443 dport=5555 [ASSURED] mark=0 use=1';
const MASQ =
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=1.2.3.4 sport=5555 dport=443 src=1.2.3.4 dst=203.0.113.5 sport=443 dport=5555 [ASSURED] mark=0 zone=0 use=2';

describe('parseConntrack: entries', () => {
  it('a plain TCP entry: not natted, every field', () => {
    const p = parseConntrack(TCP + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual<ConntrackEntry[]>([
      {
        family: 4, proto: 'tcp', state: 'ESTABLISHED', timeoutSec: 431999, src: '10.0.0.2', dst: '1.2.3.4', sport: 5555, dport: 443,
        replySrc: '1.2.3.4', replyDst: '10.0.0.2', replySport: 443, replyDport: 5555, natted: false,
      },
    ]);
    expect(p.summary).toMatchObject({ total: 1, byProto: { tcp: 1 }, byState: { ESTABLISHED: 1 }, natted: 0 });
  });

  it.each([
    ['masquerade (reply dst is the router)', MASQ, { natted: true, replyDst: '203.0.113.5' }],
    ['SNAT with port rewrite', 'ipv4 2 udp 17 29 src=10.0.0.2 dst=8.8.8.8 sport=53001 dport=53 src=8.8.8.8 dst=10.0.0.2 sport=53 dport=1024 mark=0 use=1', { natted: true, state: null }],
    ['DNAT (reply src is the inside host)', 'ipv4 2 tcp 6 100 ESTABLISHED src=198.51.100.7 dst=203.0.113.5 sport=55000 dport=8443 src=192.168.1.50 dst=198.51.100.7 sport=443 dport=55000 [ASSURED] mark=0 use=1', { natted: true }],
    ['[UNREPLIED] between the tuples', 'ipv4 2 udp 17 25 src=10.0.0.3 dst=1.1.1.1 sport=5353 dport=53 [UNREPLIED] src=1.1.1.1 dst=10.0.0.3 sport=53 dport=5353 mark=0 use=1', { natted: false, sport: 5353 }],
    ['accounting packets= bytes=', 'ipv4 2 udp 17 119 src=10.0.0.5 dst=10.0.0.1 sport=123 dport=123 packets=4 bytes=304 src=10.0.0.1 dst=10.0.0.5 sport=123 dport=123 packets=4 bytes=304 [ASSURED] mark=0 use=1', { natted: false, dport: 123 }],
    ['icmp: no ports, id compared', 'ipv4 2 icmp 1 29 src=10.0.0.2 dst=8.8.8.8 type=8 code=0 id=4321 src=8.8.8.8 dst=10.0.0.2 type=0 code=0 id=4321 mark=0 use=1', { natted: false, sport: null, dport: null, state: null }],
    ['icmp with the id rewritten is natted', 'ipv4 2 icmp 1 29 src=10.0.0.2 dst=8.8.8.8 type=8 code=0 id=4321 src=8.8.8.8 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1', { natted: true }],
    ['offloaded flow has no timeout', 'ipv4 2 tcp 6 ESTABLISHED src=10.0.0.2 dst=1.2.3.4 sport=1 dport=2 src=1.2.3.4 dst=10.0.0.2 sport=2 dport=1 [OFFLOAD] mark=0 use=2', { timeoutSec: null, state: 'ESTABLISHED' }],
    ['unknown protocol without ports', 'ipv4 2 unknown 41 587 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1 mark=0 use=1', { proto: 'unknown', sport: null, natted: false }],
    ['old gre timeout text', 'ipv4 2 gre 47 179 timeout=180, stream_timeout=18000 src=10.0.0.1 dst=10.0.0.2 srckey=0x0 dstkey=0x0 src=10.0.0.2 dst=10.0.0.1 srckey=0x0 dstkey=0x0 mark=0 use=1', { proto: 'gre', timeoutSec: 179, state: null }],
    ['ipv6 uncompressed %pI6 → RFC 5952', 'ipv6 10 tcp 6 300 ESTABLISHED src=2001:0db8:0000:0000:0000:0000:0000:0001 dst=2606:4700:0000:0000:0000:0000:6810:84e5 sport=1 dport=443 src=2606:4700:0000:0000:0000:0000:6810:84e5 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=443 dport=1 mark=0 use=1', { family: 6, src: '2001:db8::1', dst: '2606:4700::6810:84e5', natted: false }],
    ['secctx, zone, delta-time after the tuples', `${TCP.replace(' use=1', '')} secctx=system_u:object_r:unlabeled_t:s0 zone=3 delta-time=42 use=1`, { natted: false }],
    ['CRLF', `${TCP}\r`, { natted: false }],
  ])('%s', (_n, line, expected) => {
    const p = parseConntrack(line + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records[0]).toMatchObject(expected);
  });

  it('empty file: zero entries, not an error', () => {
    const p = parseConntrack('');
    expect(p.summary).toEqual({ total: 0, byProto: {}, byState: {}, natted: 0, sample: [] });
    expect(p.badLines).toBe(0);
  });
});

describe('parseConntrack: malformed lines', () => {
  it.each([
    ['truncated', 'ipv4 2 tcp 6 431999', /5 fields, too few/],
    ['bad family', TCP.replace('ipv4', 'ipx'), /bad family "ipx"/],
    ['bad proto number', TCP.replace('tcp      6', 'tcp      six'), /bad protocol/],
    ['lower-case state', TCP.replace('ESTABLISHED', 'established'), /bad state "established"/],
    ['port out of range', TCP.replace('sport=5555', 'sport=70000'), /bad sport "70000"/],
    ['non-numeric port', TCP.replace('dport=443', 'dport=https'), /bad dport "https"/],
    ['bad address', TCP.replace('src=10.0.0.2', 'src=10.0.0.x'), /bad address "10.0.0.x"/],
    ['no reply tuple', 'ipv4 2 tcp 6 10 ESTABLISHED src=10.0.0.2 dst=1.2.3.4 sport=5555 dport=443 mark=0 use=1', /no reply tuple/],
    ['no tuples', 'ipv4 2 tcp 6 10 ESTABLISHED mark=0 use=1', /no original tuple/],
    ['three tuples', `${TCP} src=1.1.1.1 dst=2.2.2.2`, /more than two tuples/],
    ['stray word', TCP.replace('[ASSURED]', 'ASSURED'), /unexpected token "ASSURED"/],
    ['one port only', TCP.replace(' dport=443', ''), /only one port/],
    ['ipv4 text in an ipv6 entry', TCP.replace('ipv4     2', 'ipv6     10').replace('src=10.0.0.2', 'src=zz::1'), /bad address "zz::1"/],
    ['ipv6 address that does not parse', 'ipv6 10 udp 17 30 src=1:2:3 dst=::1 sport=1 dport=2 src=::1 dst=1:2:3 sport=2 dport=1 mark=0 use=1', /bad address "1:2:3"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const p = parseConntrack(`${TCP}\n${line}\n${MASQ}\n`);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
    expect(p.summary.total).toBe(2);
  });

  it('beyond the sample, lines are still checked (structurally) and counted', () => {
    const p = parseConntrack(`${TCP}\n${TCP.replace('sport=5555', 'sport=x')}\n${MASQ}\n`, 1);
    expect(p.records).toHaveLength(1);
    expect(p.badLines).toBe(1);
    expect(p.summary).toMatchObject({ total: 2, natted: 1 });
  });
});

describe('parseConntrack: properties and size', () => {
  it('never throws on garbage; bad + good ≤ lines', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseConntrack(t);
        expect(p.summary.total + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
        expect(scanConntrackLine(t.split('\n')[0] ?? '')).toBeDefined();
      }),
      PROPERTY_RUNS,
    );
  });

  it('generated entries round-trip, natted exactly when the reply is not the mirror', () => {
    const ip = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map((t) => t.join('.'));
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(
        fc.constantFrom('tcp', 'udp'), ip, ip, port, port, fc.option(fc.tuple(ip, port)), fc.nat({ max: 432000 }),
        (proto, src, dst, sport, dport, nat, timeout) => {
          const [rdst, rdport] = nat ?? [src, sport];
          const num = proto === 'tcp' ? 6 : 17;
          const state = proto === 'tcp' ? 'ESTABLISHED ' : '';
          const line = `ipv4     2 ${proto.padEnd(8)} ${num} ${timeout} ${state}src=${src} dst=${dst} sport=${sport} dport=${dport} src=${dst} dst=${rdst} sport=${dport} dport=${rdport} mark=0 use=1`;
          const p = parseConntrack(line);
          expect(p.badLines).toBe(0);
          expect(p.records[0]).toEqual<ConntrackEntry>({
            family: 4, proto, state: proto === 'tcp' ? 'ESTABLISHED' : null, timeoutSec: timeout, src, dst, sport, dport,
            replySrc: dst, replyDst: rdst, replySport: dport, replyDport: rdport, natted: rdst !== src || rdport !== sport,
          });
        },
      ),
      PROPERTY_RUNS,
    );
  });

  it('300k lines: linear, summary over all, sample capped at 200', () => {
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const replyDst = i % 3 === 0 ? a : '203.0.113.5';
      lines.push(`ipv4     2 tcp      6 431999 ESTABLISHED src=${a} dst=1.2.3.4 sport=5555 dport=443 src=1.2.3.4 dst=${replyDst} sport=443 dport=5555 [ASSURED] mark=0 use=1`);
    }
    const text = lines.join('\n') + '\n';
    const t0 = performance.now();
    const p = parseConntrack(text);
    const ms = performance.now() - t0;
    expect(p.badLines).toBe(0);
    expect(p.summary.total).toBe(300_000);
    expect(p.summary.natted).toBe(200_000);
    expect(p.summary.sample).toHaveLength(200);
    expect(ms).toBeLessThan(15_000); // ~1 µs a line on an idle machine; generous for loaded CI
  });
});

describe('fixtures', () => {
  it('crafted: NAT, tcp/udp/icmp/gre/sctp/unknown, ipv6, offload', async () => {
    expect(parseConntrack(fixtureText('crafted', 'net/nf_conntrack')).badLines).toBe(0);
    const { data, status } = await readConntrack(fixtureRoots('crafted'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(data).not.toBeNull();
    expect(data!.total).toBe(18);
    expect(data!.natted).toBe(9);
    expect(data!.byProto).toEqual({ tcp: 8, udp: 4, icmp: 2, gre: 1, unknown: 1, sctp: 1, icmpv6: 1 });
    expect(data!.byState).toEqual({ ESTABLISHED: 7, TIME_WAIT: 1, SYN_SENT: 1 });
    expect(data!.sample.filter((e) => e.family === 6).map((e) => e.src)).toEqual(['2001:db8:1::abcd', 'fe80::3eec:efff:fe12:3456', '2001:db8:1::abcd', 'fd12:3456:789a::10']);
    expect(data!.sample.find((e) => e.timeoutSec === null)?.dst).toBe('151.101.1.69');
  });

  it('debian-live: the file exists and is empty (no conntrack hooks in use)', async () => {
    const { data, status } = await readConntrack(fixtureRoots('debian-live'));
    expect(status.state).toBe('ok');
    expect(data).toEqual({ total: 0, byProto: {}, byState: {}, natted: 0, sample: [] });
  });

  it('module not loaded: missing, data null', async () => {
    const { data, status } = await readConntrack(fixtureRoots('nope'));
    expect(data).toBeNull();
    expect(status.state).toBe('missing');
  });

  it('nf_conntrack_count 0: the table is empty without being read (its hash walk costs a tick ~0.3 ms)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'netscope-conntrack-'));
    try {
      const roots = { proc: root, sys: join(root, 'sys'), etc: join(root, 'etc') };
      mkdirSync(join(root, 'net'));
      mkdirSync(join(root, 'sys/net/netfilter'), { recursive: true });
      const count = join(root, 'sys/net/netfilter/nf_conntrack_count');
      // a directory where the table should be: reading it fails, so an ok outcome proves it was not read
      mkdirSync(join(root, 'net/nf_conntrack'));
      writeFileSync(count, '0\n');
      expect(await readConntrack(roots)).toMatchObject({
        data: { total: 0, byProto: {}, byState: {}, natted: 0, sample: [] },
        status: { state: 'ok', path: join(root, 'net/nf_conntrack') },
      });
      // flows counted: the table is read (and here fails as the directory it is)
      writeFileSync(count, '2\n');
      expect((await readConntrack(roots)).status.state).toBe('unreadable');
      // a real table with its count
      rmSync(join(root, 'net/nf_conntrack'), { recursive: true });
      writeFileSync(join(root, 'net/nf_conntrack'), fixtureText('crafted', 'net/nf_conntrack'));
      writeFileSync(count, '18\n');
      expect((await readConntrack(roots)).data!.total).toBe(18);
      // no count file: the table is read
      rmSync(count);
      expect((await readConntrack(roots)).data!.total).toBe(18);
      // count 0 but no table (conntrack without its /proc file): missing, as before
      writeFileSync(count, '0\n');
      rmSync(join(root, 'net/nf_conntrack'));
      expect(await readConntrack(roots)).toMatchObject({ data: null, status: { state: 'missing' } });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('sample size 0 still judges the file by its totals', async () => {
    const { data, status } = await readConntrack(fixtureRoots('crafted'), 0);
    expect(data!.sample).toEqual([]);
    expect(status.state).toBe('ok');
  });
});
