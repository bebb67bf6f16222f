/**
 * /etc/passwd: uid → user name, for netstat -e's User column and the process table.
 *
 *   root:x:0:0:root:/root:/bin/bash
 *
 * The first name for a uid wins (getpwuid's answer). NIS compat lines (`+`, `-`) and comments are
 * skipped silently; anything else without a name and a numeric uid is a bad line. Users that live
 * only in LDAP/sssd are simply absent: their uid shows as a number.
 */
import type { SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type Roots, readSource, result, statusOf } from './source.js';
import { lines } from './hexaddr.js';

export interface PasswdEntry {
  name: string;
  uid: number;
}

export function parsePasswd(text: string): ParseResult<PasswdEntry> {
  const bad = new BadLines();
  const records: PasswdEntry[] = [];
  for (const line of lines(text)) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 3) {
      bad.add(`${f.length} fields, want 7`, line);
      continue;
    }
    const name = f[0]!;
    const uidTok = f[2]!;
    if (name === '' || /\s/.test(name)) {
      bad.add(`bad name "${name}"`, line);
      continue;
    }
    if (!/^\d{1,10}$/.test(uidTok) || Number(uidTok) > 0xffffffff) {
      bad.add(`bad uid "${uidTok}"`, line);
      continue;
    }
    records.push({ name, uid: Number(uidTok) });
  }
  return result(records, bad);
}

export function passwdMap(records: readonly PasswdEntry[]): Map<number, string> {
  const map = new Map<number, string>();
  for (const r of records) if (!map.has(r.uid)) map.set(r.uid, r.name);
  return map;
}

export async function readPasswd(roots: Roots): Promise<{ data: Map<number, string>; status: SourceStatus }> {
  const started = performance.now();
  const outcome = await readSource(roots.etc, 'passwd');
  const parsed = outcome.ok ? parsePasswd(outcome.text) : null;
  return { data: passwdMap(parsed?.records ?? []), status: statusOf(outcome, parsed, performance.now() - started) };
}
