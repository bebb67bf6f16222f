/**
 * The figures the alert rules compare with their thresholds (the seed scripts'
 * `netstat -ant | awk … | sort | uniq -c` pipelines), counted once and then kept up to date.
 * TCP only (tcp + tcp6), as `netstat -ant`: UDP sockets reuse the state codes with other meanings.
 */
import type { InetSocket, Snapshot, Socket } from '@netscope/shared';
import type { Slice } from '../yield.js';

export interface Measures {
  /** TCP sockets by state; SYN_RECV includes NEW_SYN_RECV request sockets. */
  states: Map<string, number>;
  /** Non-LISTEN TCP sockets by remote address (v4-mapped IPv6 folded to IPv4). */
  byRemote: Map<string, number>;
  /** Non-LISTEN TCP sockets by local port. */
  byLocalPort: Map<number, number>;
  /** SYN_RECV sockets by remote address (the SYN flood's sources). */
  synRecvSources: Map<string, number>;
  /** CLOSE_WAIT sockets by owning program ("nginx (1234)", or "unknown owner"). */
  closeWaitOwners: Map<string, number>;
  /** TCP LISTEN sockets. */
  listeners: Set<InetSocket>;
  /**
   * Breakdowns of the groups that active alerts describe, kept in step as sockets come and go.
   * Counts only: at 200k sockets, holding every connection in a Set per state, remote address and
   * local port (so that any group could be broken down) cost ~25 MB and most of the measures'
   * time under churn, for the few groups an alert ever shows.
   */
  watched: Watched;
}

/** The connections an alert's text breaks down: all of one state, one remote address or one local port. */
export type Group = { by: 'state'; key: string } | { by: 'remote'; key: string } | { by: 'port'; key: number };

interface Watched {
  state: Map<string, Breakdown>;
  remote: Map<string, Breakdown>;
  port: Map<number, Breakdown>;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one peer is one key whatever socket family it came in on. */
export function peerAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** Add `by` to a count; a count reaching 0 leaves the map (as if never counted). */
function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

export interface Breakdown {
  byState: Map<string, number>;
  byRemote: Map<string, number>;
  byLocalPort: Map<number, number>;
}

const stateOf = (s: InetSocket): string => (s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state);

function countBreakdown(b: Breakdown, s: InetSocket, by: 1 | -1 = 1): void {
  bump(b.byState, stateOf(s), by);
  bump(b.byRemote, peerAddress(s.remoteAddress), by);
  bump(b.byLocalPort, s.localPort, by);
}

const emptyBreakdown = (): Breakdown => ({ byState: new Map(), byRemote: new Map(), byLocalPort: new Map() });

const isTcp = (s: Socket): s is InetSocket => s.proto === 'tcp' || s.proto === 'tcp6';

/** A TCP socket the measures count as a connection (not LISTEN), i.e. a member of some group. */
const isConn = (s: Socket): s is InetSocket => isTcp(s) && s.state !== 'LISTEN';

function watchedOf(w: Watched, g: Group): Map<string | number, Breakdown> {
  return w[g.by] as Map<string | number, Breakdown>;
}

/** Whether a connection belongs to a group. */
function inGroup(g: Group, s: InetSocket): boolean {
  switch (g.by) {
    case 'state':
      return stateOf(s) === g.key;
    case 'remote':
      return peerAddress(s.remoteAddress) === g.key;
    case 'port':
      return s.localPort === g.key;
  }
}

/** Count `s` into `b` if it is a connection of `group`. */
function countMember(b: Breakdown, group: Group, s: Socket): void {
  if (isConn(s) && inGroup(group, s)) countBreakdown(b, s);
}

/**
 * The measures, kept up to date socket by socket: `add` each TCP socket of a tick once, then follow
 * the next ticks with `remove` (the sockets that left or changed, as last counted) and `add` (the
 * ones that came or changed). A busy server changes a few hundred of 200k sockets a tick: counting
 * only those replaced a ~60 ms pass on every tick. Non-TCP sockets are ignored.
 */
export class MeasureCounts {
  readonly m: Measures = {
    states: new Map(),
    byRemote: new Map(),
    byLocalPort: new Map(),
    synRecvSources: new Map(),
    closeWaitOwners: new Map(),
    listeners: new Set(),
    watched: { state: new Map(), remote: new Map(), port: new Map() },
  };

  add(s: Socket): void {
    if (isTcp(s)) this.count(s, 1);
  }

  remove(s: Socket): void {
    if (isTcp(s)) this.count(s, -1);
  }

  private count(s: InetSocket, by: 1 | -1): void {
    const m = this.m;
    const state = stateOf(s);
    bump(m.states, state, by);
    if (state === 'LISTEN') {
      if (by > 0) m.listeners.add(s);
      else m.listeners.delete(s);
      return;
    }
    const remote = peerAddress(s.remoteAddress);
    bump(m.byRemote, remote, by);
    bump(m.byLocalPort, s.localPort, by);
    if (state === 'SYN_RECV') bump(m.synRecvSources, remote, by);
    if (state === 'CLOSE_WAIT') bump(m.closeWaitOwners, s.program ? `${s.program}${s.pid !== null ? ` (${s.pid})` : ''}` : 'unknown owner', by);
    const w = m.watched;
    if (w.state.size + w.remote.size + w.port.size === 0) return;
    // A socket is in at most one group of each kind: its state's, its peer's and its port's.
    const a = w.state.get(state);
    if (a !== undefined) countBreakdown(a, s, by);
    const b = w.remote.get(remote);
    if (b !== undefined) countBreakdown(b, s, by);
    const c = w.port.get(s.localPort);
    if (c !== undefined) countBreakdown(c, s, by);
  }
}

/** One pass, counts only: the per-tick cost stays one Map update per socket and key. */
export function measure(snap: Pick<Snapshot, 'sockets'>): Measures {
  const c = new MeasureCounts();
  for (const s of snap.sockets) c.add(s);
  return c.m;
}

/** States, remote addresses and local ports of some connections, counted in one go (LISTEN and non-TCP sockets left out). */
export function breakdownOf(sockets: Iterable<Socket>): Breakdown {
  const b = emptyBreakdown();
  for (const s of sockets) if (isConn(s)) countBreakdown(b, s);
  return b;
}

/**
 * A group's breakdown (for an alert's text). `sockets` must be the ones `m` counted. A group not
 * watched yet is counted with one pass over them, then watched: `m` keeps it in step from then on,
 * until `unwatchExcept` drops it.
 */
export function breakdown(m: Measures, sockets: readonly Socket[], group: Group | undefined): Breakdown {
  if (group === undefined) return emptyBreakdown();
  const watched = watchedOf(m.watched, group);
  let b = watched.get(group.key);
  if (b === undefined) {
    b = emptyBreakdown();
    for (let i = 0; i < sockets.length; i++) countMember(b, group, sockets[i]!);
    watched.set(group.key, b);
  }
  return b;
}

/**
 * breakdown(m, sockets, group) counted ahead, giving the event loop a turn whenever `slice` is due:
 * at 200k sockets an alert's group (all ESTABLISHED, one busy port) is ~100k sockets, 40-80 ms of
 * Map updates in one go. `m` and `sockets` must not change meanwhile (the monitor runs one tick at a time).
 */
export async function warmBreakdown(m: Measures, sockets: readonly Socket[], group: Group | undefined, slice: Slice): Promise<void> {
  if (group === undefined) return;
  const watched = watchedOf(m.watched, group);
  if (watched.has(group.key)) return;
  const b = emptyBreakdown();
  await slice.each(sockets, (s) => countMember(b, group, s));
  watched.set(group.key, b);
}

/** Stop keeping every breakdown but those of `groups` (the active alerts'). */
export function unwatchExcept(m: Measures, groups: Iterable<Group | undefined>): void {
  const keep = { state: new Set<string | number>(), remote: new Set<string | number>(), port: new Set<string | number>() };
  for (const g of groups) if (g !== undefined) keep[g.by].add(g.key);
  for (const by of ['state', 'remote', 'port'] as const) {
    const watched = m.watched[by] as Map<string | number, Breakdown>;
    for (const key of watched.keys()) if (!keep[by].has(key)) watched.delete(key);
  }
}

/** The group of connections whose breakdown an alert's text shows (undefined: none). */
export function alertGroup(rule: string, key: string | null): Group | undefined {
  switch (rule) {
    case 'timeWait':
      return { by: 'state', key: 'TIME_WAIT' };
    case 'closeWait':
      return { by: 'state', key: 'CLOSE_WAIT' };
    case 'established':
      return { by: 'state', key: 'ESTABLISHED' };
    case 'perRemote':
      return key === null ? undefined : { by: 'remote', key };
    case 'perLocalPort':
      return key === null || !/^\d+$/.test(key) ? undefined : { by: 'port', key: Number(key) };
    default:
      return undefined;
  }
}

/** The `n` largest entries, largest first, ties by key for a stable order. One pass, O(size × n). */
export function top<K>(map: ReadonlyMap<K, number>, n: number): [K, number][] {
  const out: [K, number][] = [];
  if (n <= 0) return out;
  /** Key `k` with count `v` ranks before entry `b`. */
  const before = (k: K, v: number, b: [K, number]): boolean => v > b[1] || (v === b[1] && String(k) < String(b[0]));
  // forEach, and an entry array only for what enters the top: a for-of over the map made an
  // entry and an iterator result per key (2k local ports at 1k connections, every tick)
  map.forEach((v, k) => {
    if (out.length === n && !before(k, v, out[n - 1]!)) return;
    const e: [K, number] = [k, v];
    let i = Math.min(out.length, n - 1);
    if (out.length < n) out.push(e);
    else out[i] = e;
    while (i > 0 && before(out[i]![0], out[i]![1], out[i - 1]!)) {
      const t = out[i - 1]!;
      out[i - 1] = out[i]!;
      out[i] = t;
      i--;
    }
  });
  return out;
}

/** "203.0.113.7 (37), 198.51.100.2 (12)"; null when empty. */
export function topText<K>(map: ReadonlyMap<K, number>, n: number): string | null {
  const t = top(map, n);
  return t.length ? t.map(([k, v]) => `${String(k)} (${v})`).join(', ') : null;
}
