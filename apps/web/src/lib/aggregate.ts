/**
 * Aggregates computed once per tick in plain JS (never inside Vue reactivity): the overview
 * counts, state counts and the seed articles' thresholds, each a single pass over the sockets,
 * for an agent that sends no `socketSummary`. The listener, peer and process tables are the
 * agent's now (@netscope/shared views.ts, GET /api/processes…), re-exported here.
 */
import { TCP_STATES, isListening, processKey, type SocketSummary, type InetSocket, type Socket, type SocketProto, type TcpState, type RemoteSummary } from '@netscope/shared';

// The per-listener, per-peer and per-process tables moved to @netscope/shared (the agent serves
// them); the pages keep importing them from here.
export {
  bindScope,
  hasPeer,
  isLoopback,
  isUnspecified,
  listeningServices,
  processKey,
  processSummaries,
  remoteRanking,
  remoteSummaries,
  type BindScope,
  type ListeningService,
  type ProcessSummary,
  type RemoteSummary,
  type UnownedKind,
} from '@netscope/shared';

export type StateCounts = Record<TcpState, number>;

export function emptyStateCounts(): StateCounts {
  const out = {} as StateCounts;
  for (const s of TCP_STATES) out[s] = 0;
  return out;
}

const PROTOS: readonly SocketProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'unix'];

export function isTcp(s: Socket): s is InetSocket {
  return s.proto === 'tcp' || s.proto === 'tcp6';
}

/* ---------- overview ---------- */

export interface Overview {
  total: number;
  byProto: Record<SocketProto, number>;
  /** tcp + tcp6 sockets by state; NEW_SYN_RECV counted under SYN_RECV as netstat does. */
  tcpStates: StateCounts;
  tcpTotal: number;
  listening: number;
  /** Sockets with an inode but no owner found (ownership incomplete). */
  ownerUnseen: number;
}

export function computeOverview(sockets: readonly Socket[]): Overview {
  const byProto = {} as Record<SocketProto, number>;
  for (const p of PROTOS) byProto[p] = 0;
  const tcpStates = emptyStateCounts();
  let tcpTotal = 0;
  let listening = 0;
  let ownerUnseen = 0;
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i]!;
    byProto[s.proto]++;
    if (s.proto === 'tcp' || s.proto === 'tcp6') {
      tcpStates[s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state]++;
      tcpTotal++;
    }
    if (s.proto !== 'unix' && isListening(s)) listening++;
    if (s.pid === null && s.inode !== 0) ownerUnseen++;
  }
  return { total: sockets.length, byProto, tcpStates, tcpTotal, listening, ownerUnseen };
}

/** The overview counts from the agent's `socketSummary` (no pass over the sockets). */
export function overviewFromSummary(s: SocketSummary): Overview {
  return { total: s.total, byProto: s.byProto, tcpStates: s.tcpStates, tcpTotal: s.tcpTotal, listening: s.listening, ownerUnseen: s.ownerUnseen };
}

/** The sockets a process holds: owner or one of the sharers (fork, SO_REUSEPORT via fork). */
export function socketsOfPid(sockets: readonly Socket[], pid: number): Socket[] {
  const out: Socket[] = [];
  for (const s of sockets) {
    if (s.pid === pid || (s.otherPids !== undefined && s.otherPids.includes(pid))) out.push(s);
  }
  return out;
}

export function socketsOfKey(sockets: readonly Socket[], key: string): Socket[] {
  if (key.startsWith('pid:')) return socketsOfPid(sockets, Number(key.slice(4)));
  return sockets.filter((s) => processKey(s) === key);
}

export function stateCountsOf(sockets: readonly Socket[]): StateCounts {
  const out = emptyStateCounts();
  for (const s of sockets) if (isTcp(s)) out[s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state]++;
  return out;
}

/* ---------- seed-article thresholds ---------- */

export interface Alert {
  level: 'warn' | 'crit';
  text: string;
  /** Where to look, a route location. */
  to: string;
}

/**
 * The seed articles' rules of thumb: TIME_WAIT > 1000, CLOSE_WAIT > 100, SYN_RECV > 50 (normally
 * under 5), one remote address with > 50 connections.
 */
export function thresholdAlerts(o: Overview, topRemote: RemoteSummary | undefined): Alert[] {
  const out: Alert[] = [];
  const s = o.tcpStates;
  if (s.SYN_RECV > 50) out.push({ level: 'crit', text: `${s.SYN_RECV} SYN_RECV (normally < 5): possible SYN flood`, to: '/connections?state=SYN_RECV' });
  if (s.TIME_WAIT > 1000) out.push({ level: 'warn', text: `${s.TIME_WAIT} TIME_WAIT (> 1000): many short connections`, to: '/connections?state=TIME_WAIT' });
  if (s.CLOSE_WAIT > 100) out.push({ level: 'warn', text: `${s.CLOSE_WAIT} CLOSE_WAIT (> 100): an application is not closing sockets`, to: '/connections?state=CLOSE_WAIT' });
  if (topRemote && topRemote.total > 50 && topRemote.scope !== 'loopback') {
    out.push({ level: 'warn', text: `${topRemote.address} holds ${topRemote.total} connections (> 50)`, to: `/connections?peer=${encodeURIComponent(topRemote.address)}` });
  }
  return out;
}
