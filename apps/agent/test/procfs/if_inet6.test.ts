import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ifaFlagNames, ipv6ScopeName, parseIfInet6, readIfInet6, type IfInet6Address } from '../../src/procfs/if_inet6.js';
import { formatIpv6 } from '../../src/procfs/hexaddr.js';
import { LIVE, PROPERTY_RUNS, commandOutput, fixtureRoots, fixtureText, garbageText, haveTool, nonEmptyLines, run } from './nethelpers.js';

/** `inet6 fd00::2/64 scope global nodad` lines of `ip -6 addr` → `iface address/plen scope`. */
function ipAddrKeys(text: string): string[] {
  const out: string[] = [];
  let iface = '';
  for (const line of text.split('\n')) {
    const dev = /^\d+:\s+([^:@\s]+)[:@]/.exec(line);
    if (dev) iface = dev[1]!;
    const a = /^\s+inet6\s+(\S+)\s+scope\s+(\S+)/.exec(line);
    if (a) out.push(`${iface} ${a[1]!} ${a[2]!}`);
  }
  return out.sort();
}
const ourKeys = (rows: IfInet6Address[]): string[] => rows.map((a) => `${a.iface} ${a.address}/${a.prefixLen} ${a.scope}`).sort();

describe('parseIfInet6', () => {
  it('reads address, ifindex, prefix, scope and flags (all hex)', () => {
    const p = parseIfInet6('fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n');
    expect(p.badLines).toBe(0);
    expect(p.records).toEqual<IfInet6Address[]>([
      { family: 6, address: 'fe80::fc:ff:fe00:1', prefixLen: 64, scope: 'link', scopeCode: 0x20, flags: 0x80, iface: 'eth0', ifindex: 4 },
      { family: 6, address: '::1', prefixLen: 128, scope: 'host', scopeCode: 0x10, flags: 0x80, iface: 'lo', ifindex: 1 },
    ]);
  });

  it.each([
    ['ifindex above 255 prints 3 hex digits', '20010db8000000000000000000000001 1a3 40 00 80 veth1234abc', { ifindex: 419, scope: 'global' }],
    ['site scope', 'fec00000000000000000000000000001 05 40 40 c0 eno1.100', { scope: 'site', flags: 0xc0 }],
    ['compat scope', '00000000000000000000000001020304 05 60 80 80 sit0', { scope: 'compat', address: '::102:304' }],
    ['unknown scope keeps its code', '20010db8000000000000000000000001 02 40 30 80 eth0', { scope: 'scope-0x30', scopeCode: 0x30 }],
    ['CRLF', '20010db8000000000000000000000001 02 40 00 80 eth0\r', { iface: 'eth0' }],
  ])('%s', (_n, line, expected) => {
    const p = parseIfInet6(line + '\n');
    expect(p.badLines).toBe(0);
    expect(p.records[0]).toMatchObject(expected);
  });

  it.each([
    ['truncated', 'fe8000000000000000fc00fffe000001 04 40', /3 fields/],
    ['garbage', 'not an address at all ok', /bad address "not"/],
    ['bad address', 'fe80000000000000000000000000000 04 40 20 80 eth0', /bad address/],
    ['prefix over 128', 'fe800000000000000000000000000000 04 81 20 80 eth0', /bad prefix length "81"/],
    ['non-hex scope', 'fe800000000000000000000000000000 04 40 zz 80 eth0', /bad scope "zz"/],
    ['negative ifindex', 'fe800000000000000000000000000000 -4 40 20 80 eth0', /bad ifindex "-4"/],
  ])('%s is skipped and counted', (_n, line, reason) => {
    const good = '00000000000000000000000000000001 01 80 10 80 lo';
    const p = parseIfInet6(`${good}\n${line}\n${good}\n`);
    expect(p.records).toHaveLength(2);
    expect(p.badLines).toBe(1);
    expect(p.sample).toMatch(reason);
  });

  it('empty file: no addresses, no error', () => {
    expect(parseIfInet6('')).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });

  it('names scopes and flags', () => {
    expect(ipv6ScopeName(0)).toBe('global');
    expect(ifaFlagNames(0x82)).toEqual(['nodad', 'permanent']);
    expect(ifaFlagNames(0x60)).toEqual(['deprecated', 'tentative']);
  });

  it('never throws on garbage; generated lines round-trip', () => {
    fc.assert(
      fc.property(garbageText, (t) => {
        const p = parseIfInet6(t);
        expect(p.records.length + p.badLines).toBeLessThanOrEqual(nonEmptyLines(t));
      }),
      PROPERTY_RUNS,
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 1, max: 0xfffff }),
        fc.integer({ min: 0, max: 128 }),
        fc.constantFrom(0, 0x10, 0x20, 0x40, 0x80),
        fc.nat({ max: 0xff }),
        fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/),
        (b, idx, plen, scope, flags, dev) => {
          const h = (n: number): string => n.toString(16).padStart(2, '0');
          const p = parseIfInet6(`${Buffer.from(b).toString('hex')} ${h(idx)} ${h(plen)} ${h(scope)} ${h(flags)} ${dev.padStart(8)}\n`);
          expect(p.records[0]).toMatchObject({ address: formatIpv6(b), ifindex: idx, prefixLen: plen, scopeCode: scope, flags, iface: dev });
        },
      ),
      PROPERTY_RUNS,
    );
  });
});

describe('fixtures', () => {
  it('debian-live == captured `ip -6 addr`', () => {
    const p = parseIfInet6(fixtureText('debian-live', 'net/if_inet6'));
    expect(p.badLines).toBe(0);
    expect(ourKeys(p.records)).toEqual(ipAddrKeys(commandOutput('debian-live', 'ip-6-addr.txt')));
    expect(p.records.find((a) => a.address === 'fd00::2')?.flags).toBe(0x82); // permanent + nodad, as ip shows
  });

  it('crafted: deprecated, tentative, site-local, 3-digit ifindex', async () => {
    const { data, status } = await readIfInet6(fixtureRoots('crafted'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(data).toHaveLength(8);
    expect(data.find((a) => a.address === '2001:db8:1::dead')?.flags).toBe(0x20);
    expect(data.find((a) => a.iface === 'veth1234abc')?.ifindex).toBe(419);
  });
});

describe.runIf(haveTool('ip'))('live /proc/net/if_inet6', () => {
  it('== `ip -6 addr` run now', async () => {
    const { data, status } = await readIfInet6(LIVE);
    if (status.state === 'missing') return;
    const out = run('ip', ['-6', 'addr']);
    if (out !== null) expect(ourKeys(data)).toEqual(ipAddrKeys(out));
  });
});
