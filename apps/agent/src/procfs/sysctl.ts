/**
 * The kernel settings that explain what the socket tables show (TIME_WAIT piles, SYN floods,
 * accept queue overflows): a handful of /proc/sys/net files, one value each.
 *
 * Any file may be absent (older kernels, another network namespace's view, a container without
 * /proc/sys): that setting is null and the status names it; the others still count.
 */
import type { KernelSettings, SourceStatus } from '@netscope/shared';
import { join } from 'node:path';
import { BadLines, type Roots, readSource, tenthsOfMs } from './source.js';
import { fields } from './hexaddr.js';

/** One integer sysctl (`1\n`); null when the content is not exactly one integer. */
export function parseSysctlInt(text: string): number | null {
  const f = fields(text);
  if (f.length !== 1) return null;
  const t = f[0]!;
  return /^-?\d{1,16}$/.test(t) ? Number(t) : null;
}

/** ip_local_port_range: `32768\t60999\n` → [32768, 60999]; null unless two ports, low ≤ high. */
export function parsePortRange(text: string): [number, number] | null {
  const f = fields(text);
  if (f.length !== 2 || !f.every((t) => /^\d{1,5}$/.test(t))) return null;
  const lo = Number(f[0]);
  const hi = Number(f[1]);
  if (lo > hi || hi > 65535) return null;
  return [lo, hi];
}

/** KernelSettings key → file under roots.proc. */
export const SYSCTL_FILES = {
  tcpSyncookies: 'sys/net/ipv4/tcp_syncookies',
  tcpTwReuse: 'sys/net/ipv4/tcp_tw_reuse',
  tcpFinTimeoutSec: 'sys/net/ipv4/tcp_fin_timeout',
  tcpMaxTwBuckets: 'sys/net/ipv4/tcp_max_tw_buckets',
  tcpMaxSynBacklog: 'sys/net/ipv4/tcp_max_syn_backlog',
  somaxconn: 'sys/net/core/somaxconn',
  ipLocalPortRange: 'sys/net/ipv4/ip_local_port_range',
} as const satisfies Record<keyof KernelSettings, string>;

type Key = keyof KernelSettings;

export async function readKernelSettings(roots: Roots): Promise<{ data: KernelSettings; status: SourceStatus }> {
  const started = performance.now();
  const keys = Object.keys(SYSCTL_FILES) as Key[];
  const outcomes = await Promise.all(keys.map((k) => readSource(roots.proc, SYSCTL_FILES[k])));
  const data: KernelSettings = {
    tcpSyncookies: null,
    tcpTwReuse: null,
    tcpFinTimeoutSec: null,
    tcpMaxTwBuckets: null,
    tcpMaxSynBacklog: null,
    somaxconn: null,
    ipLocalPortRange: null,
  };
  const bad = new BadLines();
  const absent: string[] = [];
  let found = 0;
  keys.forEach((key, i) => {
    const o = outcomes[i]!;
    const name = SYSCTL_FILES[key].split('/').pop()!;
    if (!o.ok) {
      absent.push(o.state === 'missing' ? name : `${name} (unreadable)`);
      return;
    }
    found++;
    if (key === 'ipLocalPortRange') {
      const v = parsePortRange(o.text);
      if (v === null) bad.add(`bad ${name}`, o.text.trim());
      data.ipLocalPortRange = v;
    } else {
      const v = parseSysctlInt(o.text);
      if (v === null) bad.add(`bad ${name}`, o.text.trim());
      data[key] = v;
    }
  });
  const parts: string[] = [];
  if (absent.length > 0) parts.push(`missing: ${absent.join(', ')}`);
  if (bad.count > 0) parts.push(`${bad.count} malformed value(s)`);
  const allAbsent = found === 0;
  const allUnreadable = allAbsent && outcomes.every((o) => !o.ok && o.state === 'unreadable');
  return {
    data,
    status: {
      state: allAbsent ? (allUnreadable ? 'unreadable' : 'missing') : bad.count === found ? 'malformed' : 'ok',
      path: join(roots.proc, 'sys/net'),
      message: parts.length > 0 ? parts.join('; ') : null,
      badLines: bad.count,
      sample: bad.sample,
      ms: tenthsOfMs(performance.now() - started),
    },
  };
}
