/**
 * Who and what the machine is: hostname and kernel release from /proc/sys/kernel, uptime from
 * /proc/uptime, all under roots.proc (so a fixture tree or a container's /proc answers for itself).
 */
import type { HostInfo, SourceStatus } from '@netscope/shared';
import { join } from 'node:path';
import { BadLines, type Roots, readSource, tenthsOfMs } from './source.js';
import { fields } from './hexaddr.js';

/** One-word kernel files (hostname, osrelease): the trimmed first line; null when empty. */
export function parseOneLine(text: string): string | null {
  const first = text.split('\n')[0]?.trim() ?? '';
  return first === '' ? null : first;
}

/** /proc/uptime `373.54 659.30` → 373.54 (seconds since boot); null when malformed. */
export function parseUptime(text: string): number | null {
  const f = fields(text);
  if (f.length < 1 || f.length > 2) return null;
  const t = f[0]!;
  return /^\d{1,12}(\.\d{1,9})?$/.test(t) ? Number(t) : null;
}

/**
 * HostInfo with '' for a hostname or kernel that could not be read (the schema keeps them
 * strings); the status says which.
 */
export async function readHost(roots: Roots): Promise<{ data: HostInfo; status: SourceStatus }> {
  const started = performance.now();
  const [h, k, u] = await Promise.all([
    readSource(roots.proc, 'sys/kernel/hostname'),
    readSource(roots.proc, 'sys/kernel/osrelease'),
    readSource(roots.proc, 'uptime'),
  ]);
  const bad = new BadLines();
  const absent: string[] = [];
  const hostname = h.ok ? parseOneLine(h.text) : null;
  const kernel = k.ok ? parseOneLine(k.text) : null;
  const uptimeSec = u.ok ? parseUptime(u.text) : null;
  if (!h.ok) absent.push('hostname');
  else if (hostname === null) bad.add('empty hostname', h.path);
  if (!k.ok) absent.push('osrelease');
  else if (kernel === null) bad.add('empty osrelease', k.path);
  if (!u.ok) absent.push('uptime');
  else if (uptimeSec === null) bad.add('bad uptime', u.text.trim());
  const parts: string[] = [];
  if (absent.length > 0) parts.push(`missing: ${absent.join(', ')}`);
  if (bad.count > 0) parts.push(`${bad.count} malformed value(s)`);
  const noneRead = !h.ok && !k.ok && !u.ok;
  return {
    data: { hostname: hostname ?? '', kernel: kernel ?? '', uptimeSec },
    status: {
      state: noneRead ? 'missing' : bad.count > 0 && hostname === null && kernel === null && uptimeSec === null ? 'malformed' : 'ok',
      path: join(roots.proc, 'sys/kernel'),
      message: parts.length > 0 ? parts.join('; ') : null,
      badLines: bad.count,
      sample: bad.sample,
      ms: tenthsOfMs(performance.now() - started),
    },
  };
}
