import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  IFF,
  effectiveInterfaceFlags,
  interfaceFlagLetters,
  parseMac,
  parseSpeed,
  parseSysfsHex,
  parseSysfsInt,
  readSysfsNet,
  sysfsInterfaceFrom,
  type SysfsInterface,
} from '../../src/procfs/sysfs_net.js';
import { BadLines } from '../../src/procfs/source.js';
import { LIVE, PROPERTY_RUNS, commandOutput, fixtureRoots, garbageText, haveTool, run, tableRows } from './nethelpers.js';

describe('interfaceFlagLetters (netstat -i Flg, net-tools order)', () => {
  it.each([
    [0x1043, 'BMRU'],
    [0x49, 'LRU'],
    [0x82, 'BO'],
    [0x1803 | IFF.RUNNING, 'BMsRU'],
    [0x1403 | IFF.RUNNING, 'BMmRU'],
    [0x1103 | IFF.RUNNING, 'BMPRU'],
    [0x1203 | IFF.RUNNING, 'ABMRU'],
    [0xd1, 'OpRU'],
    [0x8000 | IFF.UP, 'dU'],
    [IFF.DEBUG | IFF.NOTRAILERS, 'DN'],
    [0xffff, 'ABDLMdPNOpsmRU'],
    [0, ''],
  ])('%i → %s', (flags, letters) => {
    expect(interfaceFlagLetters(flags)).toBe(letters);
  });
});

describe('effectiveInterfaceFlags (dev_get_flags: RUNNING from operstate)', () => {
  it.each([
    [0x1003, 'up', 0x1043],
    [0x9, 'unknown', 0x49],
    [0x1003, 'down', 0x1003],
    [0x1003, 'dormant', 0x1003],
    [0x1002, 'up', 0x1002], // not administratively up: never running
    [0x1043, 'down', 0x1003], // a stale RUNNING bit is dropped
    [0x1003, null, 0x1003],
  ])('%i with %s', (flags, oper, want) => {
    expect(effectiveInterfaceFlags(flags, oper)).toBe(want);
  });
});

describe('single-value files', () => {
  it.each([
    ['1500\n', 1500],
    ['  65536 ', 65536],
    ['abc', null],
    ['', null],
    ['1 2', null],
  ])('parseSysfsInt(%j) → %s', (t, v) => expect(parseSysfsInt(t)).toBe(v));

  it.each([
    ['0x1003\n', 0x1003],
    ['0x9', 9],
    ['1003', null],
    ['0x', null],
    ['0xZZ', null],
  ])('parseSysfsHex(%j) → %s', (t, v) => expect(parseSysfsHex(t)).toBe(v));

  it.each([
    ['1000\n', 1000],
    ['-1\n', null],
    ['4294967295\n', null],
    ['fast', undefined],
  ])('parseSpeed(%j) → %s', (t, v) => expect(parseSpeed(t)).toBe(v));

  it.each([
    ['02:FC:00:00:00:01\n', '02:fc:00:00:00:01'],
    ['\n', null],
    ['00:00:00:00:00:00:00:00:fe:80:00:00:00:00:00:00:00:00:00:00', '00:00:00:00:00:00:00:00:fe:80:00:00:00:00:00:00:00:00:00:00'],
    ['zz:zz', undefined],
  ])('parseMac(%j) → %s', (t, v) => expect(parseMac(t)).toBe(v));
});

describe('sysfsInterfaceFrom', () => {
  it('missing files are nulls, not failures', () => {
    const bad = new BadLines();
    const i = sysfsInterfaceFrom('ifb0', { mtu: '1500\n', flags: '0x82\n', operstate: 'down\n', speed: null, ifindex: '2\n' }, bad);
    expect(i).toEqual<SysfsInterface>({ name: 'ifb0', ifindex: 2, mtu: 1500, flagsRaw: 0x82, flags: 'BO', operstate: 'down', speedMbps: null, mac: null });
    expect(bad.count).toBe(0);
  });

  it('a malformed value is null and counted with the raw token', () => {
    const bad = new BadLines();
    const i = sysfsInterfaceFrom('eth0', { mtu: 'lots\n', flags: '4099', speed: 'fast' }, bad);
    expect(i).toMatchObject({ mtu: null, flagsRaw: null, flags: '', speedMbps: null });
    expect(bad.count).toBe(3);
    expect(bad.sample).toMatch(/bad mtu "lots"/);
  });

  it('never throws on garbage file contents', () => {
    fc.assert(
      fc.property(garbageText, garbageText, garbageText, garbageText, (mtu, flags, operstate, speed) => {
        const i = sysfsInterfaceFrom('x', { mtu, flags, operstate, speed, address: mtu, ifindex: flags });
        expect(typeof i.flags).toBe('string');
      }),
      PROPERTY_RUNS,
    );
  });
});

/** netstat -i's MTU and Flg columns. */
const mtuFlg = (row: string[]): string[] => [row[0]!, row[1]!, row[row.length - 1]!];

describe('fixtures', () => {
  it('debian-live: MTU and Flg == captured `netstat -ia` (R synthesised like SIOCGIFFLAGS)', async () => {
    const { data, status } = await readSysfsNet(fixtureRoots('debian-live'));
    expect(status).toMatchObject({ state: 'ok', badLines: 0 });
    expect(data.map((i) => [i.name, String(i.mtu), i.flags])).toEqual(
      tableRows(commandOutput('debian-live', 'netstat-ia.txt'), 'Iface').map(mtuFlg).sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    // speed gave EINVAL on the down ifb devices and lo: absent in the copy, null here.
    expect(data.find((i) => i.name === 'eth0')).toMatchObject({ speedMbps: null, mac: '02:fc:00:00:00:01', operstate: 'up', ifindex: 4, flagsRaw: 0x1003 });
  });

  it('crafted: bonding, vlan, bridge, veth in promisc, wireguard, tun, a down bridge', async () => {
    const { data, status } = await readSysfsNet(fixtureRoots('crafted'));
    expect(status.state).toBe('ok');
    const flg = Object.fromEntries(data.map((i) => [i.name, i.flags]));
    expect(flg).toEqual({
      bond0: 'BMmRU',
      'br-0123456789ab': 'ABMRU',
      docker0: 'BMU',
      eno1: 'BMsRU',
      'eno1.100': 'BMRU',
      eno2: 'BMsRU',
      lo: 'LRU',
      tun0: 'MOpRU',
      veth1234abc: 'BMPRU',
      wg0: 'OpRU',
    });
    expect(data.find((i) => i.name === 'eno1')).toMatchObject({ speedMbps: 10000, mtu: 9000 });
    expect(data.find((i) => i.name === 'wg0')).toMatchObject({ mac: null, speedMbps: null });
    expect(data.find((i) => i.name === 'tun0')).toMatchObject({ mac: null, speedMbps: null });
    expect(data.find((i) => i.name === 'veth1234abc')?.ifindex).toBe(419);
  });

  it('named interfaces only; one that vanished is dropped; a name cannot leave the root', async () => {
    const { data } = await readSysfsNet(fixtureRoots('crafted'), ['lo', 'gone0', '..', '../../crafted/class/net/lo']);
    expect(data.map((i) => i.name)).toEqual(['lo']);
  });

  it('no /sys/class/net: missing, also when names are given', async () => {
    for (const names of [undefined, ['lo', 'eth0']]) {
      const { data, status } = await readSysfsNet(fixtureRoots('nope'), names);
      expect(data).toEqual([]);
      expect(status.state).toBe('missing');
    }
  });
});

describe.runIf(haveTool('netstat'))('live /sys/class/net', () => {
  it('MTU and Flg == `netstat -ia` run now', async () => {
    const { data, status } = await readSysfsNet(LIVE);
    expect(status.state).toBe('ok');
    const out = run('netstat', ['-ia']);
    if (out === null) return;
    const rows = tableRows(out, 'Iface').map(mtuFlg).sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(data.map((i) => [i.name.slice(0, 15), String(i.mtu), i.flags]).sort((a, b) => a[0]!.localeCompare(b[0]!))).toEqual(rows);
  });
});
