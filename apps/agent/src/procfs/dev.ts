/**
 * /proc/net/dev: the 16 per-interface counters behind `netstat -i` and `ip -s link`.
 *
 *   Inter-|   Receive                                                |  Transmit
 *    face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
 *     lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
 *   eth0:4294967296 ...          ← `%6s:%8llu`: a long counter abuts the colon
 *
 * Interface names cannot contain ':' (dev_valid_name), so the last ':' ends the name. Counters
 * are u64: exact up to 2^53 (9 PB), the nearest double beyond.
 */
import type { InterfaceCounters, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { fields, lines, parseCounter } from './hexaddr.js';

export interface DevRecord {
  name: string;
  counters: InterfaceCounters;
}

/** Column order of /proc/net/dev after the name (net/core/net-procfs.c dev_seq_printf_stats). */
export const DEV_COLUMNS = [
  'rxBytes',
  'rxPackets',
  'rxErrs',
  'rxDrop',
  'rxFifo',
  'rxFrame',
  'rxCompressed',
  'rxMulticast',
  'txBytes',
  'txPackets',
  'txErrs',
  'txDrop',
  'txFifo',
  'txColls',
  'txCarrier',
  'txCompressed',
] as const satisfies readonly (keyof InterfaceCounters)[];

export function parseDev(text: string): ParseResult<DevRecord> {
  const bad = new BadLines();
  const records: DevRecord[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    // The two header lines are the only ones with '|'.
    if (line.includes('|')) continue;
    const colon = line.lastIndexOf(':');
    if (colon < 0) {
      bad.add('no ":" after the interface name', line);
      continue;
    }
    const name = line.slice(0, colon).trim();
    if (name === '' || /\s/.test(name)) {
      bad.add(`bad interface name "${name}"`, line);
      continue;
    }
    const f = fields(line.slice(colon + 1));
    if (f.length !== DEV_COLUMNS.length) {
      bad.add(`${f.length} counters, want ${DEV_COLUMNS.length}`, line);
      continue;
    }
    const counters = {} as InterfaceCounters;
    let badTok: string | null = null;
    for (let i = 0; i < DEV_COLUMNS.length; i++) {
      const key = DEV_COLUMNS[i]!;
      const v = parseCounter(f[i]);
      if (v === null) {
        badTok = `bad ${key} "${f[i] ?? ''}"`;
        break;
      }
      counters[key] = v;
    }
    if (badTok !== null) {
      bad.add(badTok, line);
      continue;
    }
    records.push({ name, counters });
  }
  return result(records, bad);
}

export async function readDev(roots: Roots): Promise<{ data: DevRecord[]; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.proc, 'net/dev');
  const parsed = outcome.ok ? parseDev(outcome.text) : null;
  return { data: parsed?.records ?? [], status: statusOf(outcome, parsed, performance.now() - started) };
}
