/**
 * /sys/class/net/<if>/{mtu,flags,operstate,speed,address,ifindex}: what `netstat -i` and
 * `ifconfig` add to /proc/net/dev's counters.
 *
 * The sysfs `flags` file is `dev->flags`, which never carries IFF_RUNNING: netstat's `R` comes from
 * SIOCGIFFLAGS, i.e. the kernel's dev_get_flags(), which adds RUNNING when the device is up and
 * its operstate is up or unknown. `effectiveInterfaceFlags` does the same so our letters match
 * netstat's (`BMRU`, `LRU`), while `flagsRaw` stays the file's value.
 *
 * A file missing or unreadable for one interface (`speed` gives EINVAL on a down or virtual
 * device) is a null field, never a failed source.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceStatus } from '@netscope/shared';
import { BadLines, type Roots, readSource, tenthsOfMs } from './source.js';

/** net_device flags (include/uapi/linux/if.h). */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/**
 * netstat -i's Flg column, in net-tools' order (lib/interface.c ife_print_short):
 * A allmulti, B broadcast, D debug, L loopback, M multicast, d dynamic, P promisc, N notrailers,
 * O noarp, p point-to-point, s slave, m master, R running, U up. No flags → '' (netstat prints
 * `[NO FLAGS]`).
 */
export function interfaceFlagLetters(flags: number): string {
  let s = '';
  if (flags & IFF.ALLMULTI) s += 'A';
  if (flags & IFF.BROADCAST) s += 'B';
  if (flags & IFF.DEBUG) s += 'D';
  if (flags & IFF.LOOPBACK) s += 'L';
  if (flags & IFF.MULTICAST) s += 'M';
  if (flags & IFF.DYNAMIC) s += 'd';
  if (flags & IFF.PROMISC) s += 'P';
  if (flags & IFF.NOTRAILERS) s += 'N';
  if (flags & IFF.NOARP) s += 'O';
  if (flags & IFF.POINTOPOINT) s += 'p';
  if (flags & IFF.SLAVE) s += 's';
  if (flags & IFF.MASTER) s += 'm';
  if (flags & IFF.RUNNING) s += 'R';
  if (flags & IFF.UP) s += 'U';
  return s;
}

/** dev_get_flags(): sysfs flags plus RUNNING when up and operstate is up or unknown (netif_oper_up). */
export function effectiveInterfaceFlags(sysfsFlags: number, operstate: string | null): number {
  let flags = sysfsFlags & ~IFF.RUNNING;
  if ((flags & IFF.UP) !== 0 && (operstate === 'up' || operstate === 'unknown')) flags |= IFF.RUNNING;
  return flags;
}

/** Trimmed content of a one-value sysfs file. */
function value(text: string): string {
  return text.trim();
}

/** Decimal sysfs value (mtu, ifindex); null when not an integer. */
export function parseSysfsInt(text: string): number | null {
  const v = value(text);
  return /^-?\d{1,16}$/.test(v) ? Number(v) : null;
}

/** `0x1003` → 4099; null when malformed. */
export function parseSysfsHex(text: string): number | null {
  const v = value(text);
  return /^0x[0-9a-fA-F]{1,8}$/.test(v) ? parseInt(v.slice(2), 16) : null;
}

/** Link speed in Mbit/s; -1 (SPEED_UNKNOWN) and its u32 spelling → null. undefined when malformed. */
export function parseSpeed(text: string): number | null | undefined {
  const v = parseSysfsInt(text);
  if (v === null) return undefined;
  return v < 0 || v === 0xffffffff ? null : v;
}

/** `02:fc:00:00:00:01` → same; empty (tun, no L2 address) → null; undefined when malformed. */
export function parseMac(text: string): string | null | undefined {
  const v = value(text).toLowerCase();
  if (v === '') return null;
  return /^[0-9a-f]{2}(:[0-9a-f]{2})*$/.test(v) ? v : undefined;
}

/** operstate: RFC 2863 names (up, down, unknown, dormant, lowerlayerdown, notpresent, testing). */
export function parseOperstate(text: string): string | null | undefined {
  const v = value(text);
  if (v === '') return null;
  return /^[a-z]+$/.test(v) ? v : undefined;
}

export interface SysfsInterface {
  name: string;
  ifindex: number | null;
  mtu: number | null;
  /** /sys/class/net/<if>/flags as read (dev->flags). */
  flagsRaw: number | null;
  /** netstat -i Flg letters of the effective flags (with R as SIOCGIFFLAGS reports it); '' when flags unknown. */
  flags: string;
  operstate: string | null;
  speedMbps: number | null;
  mac: string | null;
}

const FILES = ['mtu', 'flags', 'operstate', 'speed', 'address', 'ifindex'] as const;
type SysFile = (typeof FILES)[number];

/** Build one interface from its files' texts (null = file absent or unreadable). Pure. */
export function sysfsInterfaceFrom(
  name: string,
  texts: Partial<Record<SysFile, string | null>>,
  bad: BadLines = new BadLines(),
): SysfsInterface {
  const take = <T>(file: SysFile, parse: (t: string) => T | null | undefined): T | null => {
    const t = texts[file];
    if (t === null || t === undefined) return null;
    const v = parse(t);
    if (v === undefined || (v === null && file !== 'speed' && file !== 'address' && file !== 'operstate')) {
      bad.add(`bad ${file} "${t.trim().slice(0, 40)}"`, `${name}/${file}`);
      return null;
    }
    return v;
  };
  const mtu = take('mtu', parseSysfsInt);
  const ifindex = take('ifindex', parseSysfsInt);
  const flagsRaw = take('flags', parseSysfsHex);
  const operstate = take('operstate', parseOperstate);
  const speedMbps = take('speed', parseSpeed);
  const mac = take('address', parseMac);
  return {
    name,
    ifindex,
    mtu,
    flagsRaw,
    flags: flagsRaw === null ? '' : interfaceFlagLetters(effectiveInterfaceFlags(flagsRaw, operstate)),
    operstate,
    speedMbps,
    mac,
  };
}

/**
 * Read every interface under roots.sys/class/net (or just `names`). An interface whose files are
 * all gone vanished between the listing and the reads, and is dropped.
 */
export async function readSysfsNet(roots: Roots, names?: readonly string[]): Promise<{ data: SysfsInterface[]; status: SourceStatus }> {
  const started = performance.now();
  const dir = join(roots.sys, 'class/net');
  let list: string[];
  try {
    // Listed even when names are given: a root without class/net is `missing`, not an empty success.
    const entries = await readdir(dir);
    // A name is a path component: never let one (from a hostile /proc/net/dev) climb out of the root.
    list = (names !== undefined ? [...names] : entries.sort()).filter((n) => n !== '' && n !== '.' && n !== '..' && !n.includes('/'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    return {
      data: [],
      status: {
        state: missing ? 'missing' : 'unreadable',
        path: dir,
        message: missing ? `${dir} does not exist` : `${dir}: ${code}`,
        badLines: 0,
        sample: null,
        ms: tenthsOfMs(performance.now() - started),
      },
    };
  }
  const bad = new BadLines();
  const data: SysfsInterface[] = [];
  const all = await Promise.all(
    list.map(async (name) => {
      const outcomes = await Promise.all(FILES.map((f) => readSource(roots.sys, join('class/net', name, f))));
      return { name, outcomes };
    }),
  );
  for (const { name, outcomes } of all) {
    if (outcomes.every((o) => !o.ok)) continue;
    const texts: Partial<Record<SysFile, string | null>> = {};
    FILES.forEach((f, i) => {
      const o = outcomes[i];
      texts[f] = o?.ok ? o.text : null;
    });
    data.push(sysfsInterfaceFrom(name, texts, bad));
  }
  return {
    data,
    status: {
      state: data.length === 0 && bad.count > 0 ? 'malformed' : 'ok',
      path: dir,
      message: bad.count > 0 ? `${bad.count} malformed value(s) skipped` : null,
      badLines: bad.count,
      sample: bad.sample,
      // to 0.1 ms, as statusOf gives every other source
      ms: tenthsOfMs(performance.now() - started),
    },
  };
}
