/**
 * One pass over a snapshot's sockets: the figures the alert rules compare with their thresholds
 * (the seed scripts' `netstat -ant | awk … | sort | uniq -c` pipelines, done once per tick).
 * TCP only (tcp + tcp6), as `netstat -ant`: UDP sockets reuse the state codes with other meanings.
 */
import type { InetSocket, Snapshot } from '@netscope/shared';
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
  listeners: InetSocket[];
  /** Non-LISTEN TCP sockets, for the breakdowns an alert's text needs (computed only then). */
  conns: InetSocket[];
  /**
   * The same connections grouped by state, by remote address and by local port: an alert's text
   * breaks down only its own group. (With 70 per-address and per-port alerts active at 200k
   * sockets, a breakdown over every connection for each was 14M iterations a tick.)
   */
  connsByState: Map<string, InetSocket[]>;
  connsByRemote: Map<string, InetSocket[]>;
  connsByLocalPort: Map<number, InetSocket[]>;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one peer is one key whatever socket family it came in on. */
export function peerAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function group<K>(map: Map<K, InetSocket[]>, key: K, s: InetSocket): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [s]);
  else list.push(s);
}

const stateOf = (s: InetSocket): string => (s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state);

function emptyMeasures(): Measures {
  return {
    states: new Map(),
    byRemote: new Map(),
    byLocalPort: new Map(),
    synRecvSources: new Map(),
    closeWaitOwners: new Map(),
    listeners: [],
    conns: [],
    connsByState: new Map(),
    connsByRemote: new Map(),
    connsByLocalPort: new Map(),
  };
}

function count(m: Measures, s: InetSocket): void {
  const state = stateOf(s);
  bump(m.states, state);
  if (state === 'LISTEN') {
    m.listeners.push(s);
    return;
  }
  m.conns.push(s);
  const remote = peerAddress(s.remoteAddress);
  bump(m.byRemote, remote);
  bump(m.byLocalPort, s.localPort);
  group(m.connsByState, state, s);
  group(m.connsByRemote, remote, s);
  group(m.connsByLocalPort, s.localPort, s);
  if (state === 'SYN_RECV') bump(m.synRecvSources, remote);
  if (state === 'CLOSE_WAIT') bump(m.closeWaitOwners, s.program ? `${s.program}${s.pid !== null ? ` (${s.pid})` : ''}` : 'unknown owner');
}

/** One pass, counts only: the per-tick cost stays one Map update per socket and key. */
export function measure(snap: Pick<Snapshot, 'sockets'>): Measures {
  const m = emptyMeasures();
  for (const s of snap.sockets) if (s.proto === 'tcp' || s.proto === 'tcp6') count(m, s);
  return m;
}

/** Sockets counted per event-loop turn by measureSliced (~10-20 ms). */
const SLICE = 20_000;

/** measure(), yielding to the event loop between slices: at 200k sockets one pass is ~150 ms. */
export async function measureSliced(snap: Pick<Snapshot, 'sockets'>): Promise<Measures> {
  const m = emptyMeasures();
  const sockets = snap.sockets;
  for (let i = 0; i < sockets.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const s = sockets[i]!;
    if (s.proto === 'tcp' || s.proto === 'tcp6') count(m, s);
  }
  return m;
}

export interface Breakdown {
  byState: Map<string, number>;
  byRemote: Map<string, number>;
  byLocalPort: Map<number, number>;
}

function countBreakdown(b: Breakdown, s: InetSocket): void {
  bump(b.byState, stateOf(s));
  bump(b.byRemote, peerAddress(s.remoteAddress));
  bump(b.byLocalPort, s.localPort);
}

const emptyBreakdown = (): Breakdown => ({ byState: new Map(), byRemote: new Map(), byLocalPort: new Map() });

/**
 * Breakdowns already counted, by group. An active alert refreshes its text every tick: at 200k
 * sockets its group (all ESTABLISHED, one busy port) is ~100k sockets, 40-80 ms of Map updates
 * in one go. The monitor counts them beforehand in slices (warmBreakdown); a tick whose sockets
 * did not change keeps last tick's groups, so their breakdowns too. (Groups are never changed
 * once measure() returned them.)
 */
const breakdowns = new WeakMap<readonly InetSocket[], Breakdown>();

/** States, remote addresses and local ports of some connections (alert text only), e.g. one of Measures' groups. */
export function breakdown(conns: readonly InetSocket[] | undefined): Breakdown {
  if (conns === undefined) return emptyBreakdown();
  let b = breakdowns.get(conns);
  if (b === undefined) {
    b = emptyBreakdown();
    for (const s of conns) countBreakdown(b, s);
    breakdowns.set(conns, b);
  }
  return b;
}

/** breakdown(conns) counted ahead, giving the event loop a turn whenever `slice` is due. */
export async function warmBreakdown(conns: readonly InetSocket[] | undefined, slice: Slice): Promise<void> {
  if (conns === undefined || breakdowns.has(conns)) return;
  const b = emptyBreakdown();
  for (let i = 0; i < conns.length; i++) {
    if ((i & 4095) === 4095) await slice.check();
    countBreakdown(b, conns[i]!);
  }
  breakdowns.set(conns, b);
}

/** The group of connections whose breakdown an alert's text shows (undefined: none). */
export function alertGroup(m: Measures, rule: string, key: string | null): InetSocket[] | undefined {
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
