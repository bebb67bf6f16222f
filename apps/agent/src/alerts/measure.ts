/**
 * One pass over a snapshot's sockets: the figures the alert rules compare with their thresholds
 * (the seed scripts' `netstat -ant | awk … | sort | uniq -c` pipelines, done once per tick).
 * TCP only (tcp + tcp6), as `netstat -ant`: UDP sockets reuse the state codes with other meanings.
 */
import type { InetSocket, Snapshot } from '@netscope/shared';

export interface PeerCount {
  total: number;
  byState: Map<string, number>;
  /** byRemote: local ports reached; byLocalPort: remote addresses. */
  other: Map<string, number>;
}

export interface Measures {
  /** TCP sockets by state; SYN_RECV includes NEW_SYN_RECV request sockets. */
  states: Map<string, number>;
  /** Non-LISTEN TCP sockets by remote address (v4-mapped IPv6 folded to IPv4). */
  byRemote: Map<string, PeerCount>;
  /** Non-LISTEN TCP sockets by local port. */
  byLocalPort: Map<number, PeerCount>;
  /** SYN_RECV sockets by remote address (the SYN flood's sources). */
  synRecvSources: Map<string, number>;
  /** CLOSE_WAIT sockets by owning program ("nginx (1234)", or "unknown owner"). */
  closeWaitOwners: Map<string, number>;
  /** TCP LISTEN sockets. */
  listeners: InetSocket[];
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

function bumpPeer<K>(map: Map<K, PeerCount>, key: K, state: string, other: string): void {
  let p = map.get(key);
  if (!p) {
    p = { total: 0, byState: new Map(), other: new Map() };
    map.set(key, p);
  }
  p.total++;
  bump(p.byState, state);
  bump(p.other, other);
}

export function measure(snap: Pick<Snapshot, 'sockets'>): Measures {
  const m: Measures = {
    states: new Map(),
    byRemote: new Map(),
    byLocalPort: new Map(),
    synRecvSources: new Map(),
    closeWaitOwners: new Map(),
    listeners: [],
  };
  for (const s of snap.sockets) {
    if (s.proto !== 'tcp' && s.proto !== 'tcp6') continue;
    const state = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
    bump(m.states, state);
    if (state === 'LISTEN') {
      m.listeners.push(s);
      continue;
    }
    const remote = peerAddress(s.remoteAddress);
    bumpPeer(m.byRemote, remote, state, String(s.localPort));
    bumpPeer(m.byLocalPort, s.localPort, state, remote);
    if (state === 'SYN_RECV') bump(m.synRecvSources, remote);
    if (state === 'CLOSE_WAIT') bump(m.closeWaitOwners, s.program ? `${s.program}${s.pid !== null ? ` (${s.pid})` : ''}` : 'unknown owner');
  }
  return m;
}

/** The `n` largest entries, largest first, ties by key for a stable order. */
export function top<K>(map: ReadonlyMap<K, number>, n: number): [K, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).slice(0, n);
}

/** "203.0.113.7 (37), 198.51.100.2 (12)"; null when empty. */
export function topText<K>(map: ReadonlyMap<K, number>, n: number): string | null {
  const t = top(map, n);
  return t.length ? t.map(([k, v]) => `${String(k)} (${v})`).join(', ') : null;
}
