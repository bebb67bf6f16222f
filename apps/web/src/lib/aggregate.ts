/**
 * Aggregates computed once per tick in plain JS (never inside Vue reactivity): the overview
 * counts, listening services, remote peers and per-process summaries. Each is a single pass over
 * the sockets.
 */
import { TCP_STATES, compareText, isListening, protoFlag, scopeOf, type SocketSummary, type AddressScope, type InetSocket, type Snapshot, type Socket, type SocketProto, type TcpState, type ProtoFlag } from '@netscope/shared';

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

export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::ffff:0.0.0.0';
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Which interfaces a listener answers on. */
export type BindScope = 'all' | 'loopback' | 'specific';
export function bindScope(address: string): BindScope {
  if (isUnspecified(address)) return 'all';
  if (isLoopback(address)) return 'loopback';
  return 'specific';
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

/* ---------- listening services (netstat -tulnp) ---------- */

export interface ListeningService {
  id: string;
  proto: InetSocket['proto'];
  family: 4 | 6;
  address: string;
  port: number;
  service: string | null;
  scope: BindScope;
  pid: number | null;
  program: string | null;
  otherPids: number[];
  user: string | null;
  uid: number;
  inode: number;
  /** LISTEN: current accept queue; max backlog. */
  recvQ: number;
  sendQ: number;
}

/** TCP LISTEN and unconnected UDP/raw sockets with a bound port (netstat -tulnp plus -w). */
export function listeningServices(sockets: readonly Socket[], opts: { raw?: boolean } = {}): ListeningService[] {
  const out: ListeningService[] = [];
  for (const s of sockets) {
    if (s.proto === 'unix' || !isListening(s)) continue;
    const flag = protoFlag(s.proto);
    if (flag === 'w' && !opts.raw) continue;
    out.push({
      id: s.id,
      proto: s.proto,
      family: s.family,
      address: s.localAddress,
      port: s.localPort,
      service: s.localService ?? null,
      scope: bindScope(s.localAddress),
      pid: s.pid,
      program: s.program,
      otherPids: s.otherPids ?? [],
      user: s.user,
      uid: s.uid,
      inode: s.inode,
      recvQ: s.recvQ,
      sendQ: s.sendQ,
    });
  }
  out.sort((a, b) => a.port - b.port || compareText(a.proto, b.proto) || compareText(a.address, b.address));
  return out;
}

/* ---------- remote peers ---------- */

export interface RemoteSummary {
  address: string;
  scope: AddressScope;
  total: number;
  states: Partial<Record<TcpState, number>>;
  /** Local ports this peer talks to, with counts, most used first. */
  localPorts: [number, number][];
  /** Distinct owning programs. */
  programs: string[];
}

/** A socket that has a peer: not listening, not unix, remote address set. */
export function hasPeer(s: Socket): s is InetSocket {
  return s.proto !== 'unix' && !(isUnspecified(s.remoteAddress) && s.remotePort === 0) && !(s.proto.startsWith('tcp') && s.state === 'LISTEN');
}

/**
 * Peers ranked by connection count (ties keep first-seen order, which is stable across ticks).
 * Under a flood every peer is distinct (200k addresses), so each peer is one small object: the
 * first local port and program are plain fields, and a Map or Set is only made when a second one
 * turns up. `limit` keeps only the top N (the overview needs 10) without sorting them all.
 */
export function remoteSummaries(sockets: readonly Socket[], limit = Infinity): RemoteSummary[] {
  return remoteRanking(sockets, limit).top;
}

/** The top `limit` peers and the number of distinct peers, from one pass. */
export function remoteRanking(sockets: readonly Socket[], limit = Infinity): { top: RemoteSummary[]; peers: number } {
  interface Acc {
    address: string;
    total: number;
    states: Partial<Record<TcpState, number>>;
    port: number;
    portCount: number;
    ports: Map<number, number> | null;
    program: string | null;
    programs: Set<string> | null;
  }
  const by = new Map<string, Acc>();
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i]!;
    if (!hasPeer(s)) continue;
    let a = by.get(s.remoteAddress);
    if (a === undefined) {
      a = { address: s.remoteAddress, total: 0, states: {}, port: s.localPort, portCount: 0, ports: null, program: s.program, programs: null };
      by.set(s.remoteAddress, a);
    }
    a.total++;
    const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
    a.states[st] = (a.states[st] ?? 0) + 1;
    if (a.ports === null && s.localPort === a.port) a.portCount++;
    else {
      if (a.ports === null) a.ports = new Map([[a.port, a.portCount]]);
      a.ports.set(s.localPort, (a.ports.get(s.localPort) ?? 0) + 1);
    }
    if (s.program !== null && s.program !== a.program) {
      if (a.program === null) a.program = s.program;
      else {
        a.programs ??= new Set([a.program]);
        if (a.programs.size < 20) a.programs.add(s.program);
      }
    }
  }
  let accs: Acc[];
  if (limit < by.size) {
    // Top N by a single pass with a small sorted buffer.
    accs = [];
    for (const a of by.values()) {
      if (accs.length === limit && a.total <= accs[accs.length - 1]!.total) continue;
      let k = accs.length;
      while (k > 0 && accs[k - 1]!.total < a.total) k--;
      accs.splice(k, 0, a);
      if (accs.length > limit) accs.pop();
    }
  } else {
    accs = [...by.values()];
    accs.sort((x, y) => y.total - x.total);
  }
  const out: RemoteSummary[] = new Array<RemoteSummary>(accs.length);
  for (let i = 0; i < accs.length; i++) {
    const a = accs[i]!;
    out[i] = {
      address: a.address,
      scope: scopeOf(a.address),
      total: a.total,
      states: a.states,
      localPorts: a.ports ? [...a.ports].sort((x, y) => y[1] - x[1] || x[0] - y[0]) : [[a.port, a.portCount]],
      programs: a.programs ? [...a.programs].sort() : a.program !== null ? [a.program] : [],
    };
  }
  return { top: out, peers: by.size };
}

/* ---------- processes ---------- */

/** Why a socket has no process: kernel-held (no inode, e.g. TIME_WAIT) or owner not visible to the agent. */
export type UnownedKind = 'kernel' | 'unseen';

export interface ProcessSummary {
  /** `pid:123`, or `unowned:unseen` / `unowned:kernel`. */
  key: string;
  pid: number | null;
  unowned: UnownedKind | null;
  program: string;
  user: string | null;
  cmdline: string | null;
  total: number;
  byProto: Record<ProtoFlag, number>;
  states: Partial<Record<string, number>>;
  /** `tcp/22`, `udp/53`… sorted by port. */
  listening: string[];
  /** Distinct remote addresses. */
  peers: number;
}

function emptyByProto(): Record<ProtoFlag, number> {
  return { t: 0, u: 0, w: 0, x: 0 };
}

export function processKey(s: Socket): string {
  if (s.pid !== null) return `pid:${s.pid}`;
  return s.inode === 0 ? 'unowned:kernel' : 'unowned:unseen';
}

export function processSummaries(snapshot: Pick<Snapshot, 'sockets' | 'processes'>): ProcessSummary[] {
  interface Acc {
    sum: ProcessSummary;
    listen: Map<string, number>;
    peers: Set<string>;
  }
  const by = new Map<string, Acc>();
  const get = (key: string, s: Socket): Acc => {
    let a = by.get(key);
    if (!a) {
      const info = s.pid !== null ? snapshot.processes[String(s.pid)] : undefined;
      const unowned: UnownedKind | null = s.pid !== null ? null : s.inode === 0 ? 'kernel' : 'unseen';
      a = {
        sum: {
          key,
          pid: s.pid,
          unowned,
          program: unowned === 'kernel' ? '(kernel: no owner)' : unowned === 'unseen' ? '(owner not visible)' : (info?.program ?? s.program ?? '?'),
          user: info?.user ?? null,
          cmdline: info?.cmdline ?? null,
          total: 0,
          byProto: emptyByProto(),
          states: {},
          listening: [],
          peers: 0,
        },
        listen: new Map(),
        peers: new Set(),
      };
      by.set(key, a);
    }
    return a;
  };
  for (const s of snapshot.sockets) {
    const a = get(processKey(s), s);
    const sum = a.sum;
    sum.total++;
    sum.byProto[protoFlag(s.proto)]++;
    const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
    sum.states[st] = (sum.states[st] ?? 0) + 1;
    if (s.proto !== 'unix') {
      if (isListening(s)) {
        if (s.localPort !== 0) a.listen.set(`${s.proto.replace(/6$/, '')}/${s.localPort}`, s.localPort);
      } else if (hasPeer(s)) a.peers.add(s.remoteAddress);
    }
  }
  // Processes that hold no socket the agent listed still show up (socketCount > 0 means unix/other).
  const out: ProcessSummary[] = [];
  for (const a of by.values()) {
    a.sum.listening = [...a.listen].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1)).map((x) => x[0]);
    a.sum.peers = a.peers.size;
    out.push(a.sum);
  }
  out.sort((x, y) => y.total - x.total || (x.pid ?? -1) - (y.pid ?? -1));
  return out;
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
