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
  /** Non-LISTEN TCP sockets, for the breakdowns an alert's text needs (computed only then). */
  conns: Set<InetSocket>;
  /**
   * The same connections grouped by state, by remote address and by local port: an alert's text
   * breaks down only its own group. (With 70 per-address and per-port alerts active at 200k
   * sockets, a breakdown over every connection for each was 14M iterations a tick.)
   */
  connsByState: Map<string, Set<InetSocket>>;
  connsByRemote: Map<string, Set<InetSocket>>;
  connsByLocalPort: Map<number, Set<InetSocket>>;
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

/**
 * Breakdowns already counted, by group. An active alert refreshes its text every tick: at 200k
 * sockets its group (all ESTABLISHED, one busy port) is ~100k sockets, 40-80 ms of Map updates
 * in one go. The monitor counts them beforehand in slices (warmBreakdown), and MeasureCounts keeps
 * a counted breakdown in step as sockets join and leave its group.
 */
const breakdowns = new WeakMap<ReadonlySet<InetSocket>, Breakdown>();

function join<K>(groups: Map<K, Set<InetSocket>>, key: K, s: InetSocket): void {
  const g = groups.get(key);
  if (g === undefined) groups.set(key, new Set([s]));
  else {
    g.add(s);
    const b = breakdowns.get(g);
    if (b !== undefined) countBreakdown(b, s);
  }
}

function leave<K>(groups: Map<K, Set<InetSocket>>, key: K, s: InetSocket): void {
  const g = groups.get(key);
  if (g === undefined || !g.delete(s)) return;
  if (g.size === 0) groups.delete(key);
  else {
    const b = breakdowns.get(g);
    if (b !== undefined) countBreakdown(b, s, -1);
  }
}

const isTcp = (s: Socket): s is InetSocket => s.proto === 'tcp' || s.proto === 'tcp6';

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
    conns: new Set(),
    connsByState: new Map(),
    connsByRemote: new Map(),
    connsByLocalPort: new Map(),
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
    if (by > 0) m.conns.add(s);
    else m.conns.delete(s);
    const remote = peerAddress(s.remoteAddress);
    bump(m.byRemote, remote, by);
    bump(m.byLocalPort, s.localPort, by);
    const group = by > 0 ? join : leave;
    group(m.connsByState, state, s);
    group(m.connsByRemote, remote, s);
    group(m.connsByLocalPort, s.localPort, s);
    if (state === 'SYN_RECV') bump(m.synRecvSources, remote, by);
    if (state === 'CLOSE_WAIT') bump(m.closeWaitOwners, s.program ? `${s.program}${s.pid !== null ? ` (${s.pid})` : ''}` : 'unknown owner', by);
  }
}

/** One pass, counts only: the per-tick cost stays one Map update per socket and key. */
export function measure(snap: Pick<Snapshot, 'sockets'>): Measures {
  const c = new MeasureCounts();
  for (const s of snap.sockets) c.add(s);
  return c.m;
}

/** States, remote addresses and local ports of some connections (alert text only), e.g. one of Measures' groups. */
export function breakdown(conns: ReadonlySet<InetSocket> | readonly InetSocket[] | undefined): Breakdown {
  if (conns === undefined) return emptyBreakdown();
  if (Array.isArray(conns)) {
    const b = emptyBreakdown();
    for (const s of conns as readonly InetSocket[]) countBreakdown(b, s);
    return b;
  }
  const group = conns as ReadonlySet<InetSocket>;
  let b = breakdowns.get(group);
  if (b === undefined) {
    b = emptyBreakdown();
    for (const s of group) countBreakdown(b, s);
    breakdowns.set(group, b);
  }
  return b;
}

/** breakdown(group) counted ahead, giving the event loop a turn whenever `slice` is due. */
export async function warmBreakdown(group: ReadonlySet<InetSocket> | undefined, slice: Slice): Promise<void> {
  if (group === undefined || breakdowns.has(group)) return;
  // A snapshot of the members: the group does not change while the monitor awaits (one tick at a time).
  const b = emptyBreakdown();
  let i = 0;
  for (const s of group) {
    if ((++i & 4095) === 0) await slice.check();
    countBreakdown(b, s);
  }
  breakdowns.set(group, b);
}

/** The group of connections whose breakdown an alert's text shows (undefined: none). */
export function alertGroup(m: Measures, rule: string, key: string | null): Set<InetSocket> | undefined {
  switch (rule) {
    case 'timeWait':
      return m.connsByState.get('TIME_WAIT');
    case 'closeWait':
      return m.connsByState.get('CLOSE_WAIT');
    case 'established':
      return m.connsByState.get('ESTABLISHED');
    case 'perRemote':
      return key === null ? undefined : m.connsByRemote.get(key);
    case 'perLocalPort':
      return key === null ? undefined : m.connsByLocalPort.get(Number(key));
    default:
      return undefined;
  }
}

/** The `n` largest entries, largest first, ties by key for a stable order. One pass, O(size × n). */
export function top<K>(map: ReadonlyMap<K, number>, n: number): [K, number][] {
  const out: [K, number][] = [];
  if (n <= 0) return out;
  const before = (a: [K, number], b: [K, number]): boolean => a[1] > b[1] || (a[1] === b[1] && String(a[0]) < String(b[0]));
  for (const e of map) {
    if (out.length === n && !before(e, out[n - 1]!)) continue;
    let i = Math.min(out.length, n - 1);
    if (out.length < n) out.push(e);
    else out[i] = e;
    while (i > 0 && before(out[i]!, out[i - 1]!)) {
      const t = out[i - 1]!;
      out[i - 1] = out[i]!;
      out[i] = t;
      i--;
    }
  }
  return out;
}

/** "203.0.113.7 (37), 198.51.100.2 (12)"; null when empty. */
export function topText<K>(map: ReadonlyMap<K, number>, n: number): string | null {
  const t = top(map, n);
  return t.length ? t.map(([k, v]) => `${String(k)} (${v})`).join(', ') : null;
}
