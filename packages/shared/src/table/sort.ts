/**
 * Sorting sockets by any table column. Keys are computed once per socket (not per comparison) and
 * the sort is stable, so equal rows keep the snapshot's order and do not jump between ticks.
 */
import { parseIp } from '../ip.js';
import type { Socket } from '../schema.js';
import type { ColumnKey } from './columns.js';
import { ipv4Number } from './ipfast.js';

export type SortDir = 'asc' | 'desc';
export interface SortSpec {
  key: ColumnKey;
  dir: SortDir;
}

/** The columns a socket table sorts by, as `sort=` names them. */
export const SOCKET_SORT_KEYS: readonly ColumnKey[] = ['proto', 'recvQ', 'sendQ', 'local', 'remote', 'state', 'program', 'user', 'inode', 'timer'];

export function sortFromQuery(sort: string, dir: string): SortSpec | null {
  if (!(SOCKET_SORT_KEYS as readonly string[]).includes(sort)) return null;
  return { key: sort as ColumnKey, dir: dir === 'desc' ? 'desc' : 'asc' };
}

export function sortToQuery(spec: SortSpec | null): Record<string, string> {
  if (!spec) return {};
  return spec.dir === 'desc' ? { sort: spec.key, dir: 'desc' } : { sort: spec.key };
}

/** Click on a header: asc → desc → off. Numbers start descending (biggest queues first). */
export function nextSort(current: SortSpec | null, key: ColumnKey, numeric: boolean): SortSpec | null {
  const first: SortDir = numeric ? 'desc' : 'asc';
  if (!current || current.key !== key) return { key, dir: first };
  if (current.dir === first) return { key, dir: first === 'asc' ? 'desc' : 'asc' };
  return null;
}

const addressKeyMemo = new Map<string, string>();

/**
 * A string that orders addresses numerically: IPv4 before IPv6, each by its bytes.
 * (Plain text order would put 10.0.0.10 before 10.0.0.9.)
 */
export function addressSortKey(address: string): string {
  let key = addressKeyMemo.get(address);
  if (key === undefined) {
    const bytes = parseIp(address);
    if (!bytes) key = `9${address}`;
    else {
      const isV4 = !address.includes(':');
      let hex = '';
      for (let i = isV4 ? 12 : 0; i < 16; i++) hex += bytes[i]!.toString(16).padStart(2, '0');
      key = (isV4 ? '4' : '6') + hex;
    }
    if (addressKeyMemo.size > 200_000) addressKeyMemo.clear();
    addressKeyMemo.set(address, key);
  }
  return key;
}

/** IPv4 endpoints as a number (ip·65536 + port), others as a string; numbers sort first. */
function endpointKey(address: string, port: number): string | number {
  const v4 = ipv4Number(address);
  if (v4 >= 0) return v4 * 65536 + port;
  return addressSortKey(address) + port.toString(16).padStart(4, '0');
}

const programKeyMemo = new Map<string, string>();

function programKey(program: string | null, pid: number): string {
  const memoKey = `${pid}\u0000${program ?? ''}`;
  let k = programKeyMemo.get(memoKey);
  if (k === undefined) {
    k = `${(program ?? '').toLowerCase()}\u0000${String(pid).padStart(10, '0')}`;
    if (programKeyMemo.size > 50_000) programKeyMemo.clear();
    programKeyMemo.set(memoKey, k);
  }
  return k;
}

function sortKey(s: Socket, key: ColumnKey, now: number): string | number {
  switch (key) {
    case 'proto':
      return s.proto;
    case 'recvQ':
      return s.proto === 'unix' ? -1 : s.recvQ;
    case 'sendQ':
      return s.proto === 'unix' ? -1 : s.sendQ;
    case 'local':
      return s.proto === 'unix' ? `u${s.path ?? ''}` : endpointKey(s.localAddress, s.localPort);
    case 'remote':
      return s.proto === 'unix' ? 'u' : endpointKey(s.remoteAddress, s.remotePort);
    case 'state':
      return s.state;
    case 'program':
      // Unowned sorts last ascending; then by name, then pid.
      return s.pid === null ? '\uffff' : programKey(s.program, s.pid);
    case 'user':
      return s.proto === 'unix' ? '' : (s.user ?? `#${s.uid}`);
    case 'inode':
      return s.inode;
    case 'timer':
      return s.proto === 'unix' || s.timer.expiresAt === null ? -1 : s.timer.expiresAt - now;
  }
}

/** Sorted copy; the input is left alone. */
export function sortSockets<T extends Socket>(rows: readonly T[], spec: SortSpec | null, now: number): T[] {
  const steps = sortSocketsInSteps(rows, spec, now, Infinity);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * sortSockets, in steps of about `step` rows of work each (a generator: the agent yields to its
 * event loop between steps, so sorting 200k rows never holds an HTTP request for long). Slices of
 * `step` rows are sorted, then merged pairwise; the comparison breaks ties by input position, so
 * the result is exactly sortSockets' whatever the step.
 */
export function* sortSocketsInSteps<T extends Socket>(rows: readonly T[], spec: SortSpec | null, now: number, step = 20_000): Generator<void, T[], void> {
  if (!spec) return rows.slice();
  const n = rows.length;
  const keys: (string | number)[] = new Array<string | number>(n);
  for (let i = 0; i < n; i++) {
    keys[i] = sortKey(rows[i]!, spec.key, now);
    if ((i + 1) % step === 0) yield;
  }
  const sign = spec.dir === 'asc' ? 1 : -1;
  const cmp = (a: number, b: number): number => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    if (typeof ka !== typeof kb) return typeof ka === 'number' ? -sign : sign;
    if (ka < kb) return -sign;
    if (ka > kb) return sign;
    return a - b;
  };
  let idx: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const run = Math.max(1, Math.min(n, step));
  for (let at = 0; at < n; at += run) {
    const part = idx.slice(at, at + run).sort(cmp);
    for (let i = 0; i < part.length; i++) idx[at + i] = part[i]!;
    if (at + run < n) yield;
  }
  let tmp: number[] = new Array<number>(n);
  let done = 0;
  for (let width = run; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        tmp[k++] = cmp(idx[i]!, idx[j]!) <= 0 ? idx[i++]! : idx[j++]!;
        if (++done % step === 0) yield;
      }
      while (i < mid) tmp[k++] = idx[i++]!;
      while (j < hi) tmp[k++] = idx[j++]!;
    }
    [idx, tmp] = [tmp, idx];
  }
  const out: T[] = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = rows[idx[i]!]!;
  return out;
}

/** Generic stable sort for the smaller tables (processes, remotes, routes…). */
export function sortBy<T>(rows: readonly T[], key: (row: T) => string | number, dir: SortDir): T[] {
  const keyed = rows.map((row, i) => ({ row, k: key(row), i }));
  const sign = dir === 'asc' ? 1 : -1;
  keyed.sort((a, b) => (a.k < b.k ? -sign : a.k > b.k ? sign : a.i - b.i));
  return keyed.map((x) => x.row);
}
