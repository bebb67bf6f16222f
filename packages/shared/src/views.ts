/**
 * The per-process, per-listener and per-peer tables of /processes, /listening and /remote: what
 * `netstat -tulnp`, `ss -p` grouped by process and the seed articles' `netstat -ntu | awk | sort |
 * uniq -c` give. Computed on the agent (`GET /api/processes`, `/api/listening`, `/api/remote`), so
 * those pages take the summary stream and never hold the socket list: at 200k sockets a page that
 * did this itself parsed the ~38 MB full snapshot and blocked for seconds. Each table is one pass
 * over the sockets, fed a socket at a time (`add`) so the agent can yield between slices.
 */
import { compareText } from './compare.js';
import type { AddressScope } from './ip.js';
import type { InetSocket, ProcessInfo, Socket, TcpState } from './schema.js';
import { isListening, protoFlag, type ProtoFlag } from './table/filters.js';
import { scopeOf } from './table/ipfast.js';
import { addressSortKey } from './table/sort.js';

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

/** A TCP LISTEN or unconnected UDP (raw too with `raw`) socket as a listener row; null for any other. */
export function listeningService(s: Socket, raw = false): ListeningService | null {
  if (s.proto === 'unix' || !isListening(s)) return null;
  if (protoFlag(s.proto) === 'w' && !raw) return null;
  return {
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
  };
}

/** Listener rows sorted by port, protocol, address. */
export function sortListening(out: ListeningService[]): ListeningService[] {
  return out.sort((a, b) => a.port - b.port || compareText(a.proto, b.proto) || compareText(a.address, b.address));
}

/** TCP LISTEN and unconnected UDP/raw sockets with a bound port (netstat -tulnp plus -w). */
export function listeningServices(sockets: readonly Socket[], opts: { raw?: boolean } = {}): ListeningService[] {
  const out: ListeningService[] = [];
  for (const s of sockets) {
    const l = listeningService(s, opts.raw);
    if (l !== null) out.push(l);
  }
  return sortListening(out);
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

/** One peer as RemoteRanker counts it (what a RemoteSummary is made of). */
export interface PeerCount {
  address: string;
  total: number;
  states: Partial<Record<TcpState, number>>;
  port: number;
  portCount: number;
  ports: Map<number, number> | null;
  program: string | null;
  programs: Set<string> | null;
}

/**
 * Peers ranked by connection count (ties keep first-seen order, which is stable across ticks).
 * Under a flood every peer is distinct (200k addresses), so each peer is one small object: the
 * first local port and program are plain fields, and a Map or Set is only made when a second one
 * turns up.
 */
export class RemoteRanker {
  private readonly by = new Map<string, PeerCount>();

  add(s: Socket): void {
    if (!hasPeer(s)) return;
    let a = this.by.get(s.remoteAddress);
    if (a === undefined) {
      a = { address: s.remoteAddress, total: 0, states: {}, port: s.localPort, portCount: 0, ports: null, program: s.program, programs: null };
      this.by.set(s.remoteAddress, a);
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

  /** Distinct peers so far. */
  get peers(): number {
    return this.by.size;
  }

  /** Every peer so far, in the order first seen (for a caller that picks a few: make only those into summaries). */
  counts(): PeerCount[] {
    return [...this.by.values()];
  }

  /** The top `limit` peers, most connections first; `limit` keeps only those without sorting them all. */
  result(limit = Infinity): RemoteSummary[] {
    // Ties keep first-seen order: a stable sort of them all, or the first `limit` without one.
    const accs = limit < this.by.size ? firstN(this.by.values(), limit, (a, b) => a.total > b.total) : [...this.by.values()].sort((x, y) => y.total - x.total);
    return accs.map((a) => peerSummary(a));
  }
}

/** A counted peer as /remote shows it; `scope` when already known. */
export function peerSummary(a: PeerCount, scope: AddressScope = scopeOf(a.address)): RemoteSummary {
  return {
    address: a.address,
    scope,
    total: a.total,
    states: a.states,
    localPorts: a.ports ? [...a.ports].sort((x, y) => y[1] - x[1] || x[0] - y[0]) : [[a.port, a.portCount]],
    programs: a.programs ? [...a.programs].sort() : a.program !== null ? [a.program] : [],
  };
}

/**
 * The first `limit` items in the order of `before` (a strict "comes first"), without sorting them
 * all: a binary insertion into a buffer of `limit`, fed an item at a time (so a caller can yield
 * between slices). For 200k peers and a page of 200, sorting everything per request would be the
 * cost of the whole answer.
 */
export class FirstN<T> {
  private readonly out: T[] = [];

  constructor(
    private readonly limit: number,
    private readonly before: (a: T, b: T) => boolean,
  ) {}

  add(x: T): void {
    const { out, limit, before } = this;
    if (limit <= 0 || (out.length === limit && !before(x, out[limit - 1]!))) return;
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(x, out[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    out.splice(lo, 0, x);
    if (out.length > limit) out.pop();
  }

  result(): T[] {
    return this.out.slice();
  }
}

export function firstN<T>(items: Iterable<T>, limit: number, before: (a: T, b: T) => boolean): T[] {
  const f = new FirstN(limit, before);
  for (const x of items) f.add(x);
  return f.result();
}

/** The top `limit` peers and the number of distinct peers, from one pass. */
export function remoteRanking(sockets: readonly Socket[], limit = Infinity): { top: RemoteSummary[]; peers: number } {
  const r = new RemoteRanker();
  for (let i = 0; i < sockets.length; i++) r.add(sockets[i]!);
  return { top: r.result(limit), peers: r.peers };
}

export function remoteSummaries(sockets: readonly Socket[], limit = Infinity): RemoteSummary[] {
  return remoteRanking(sockets, limit).top;
}

/** /remote's columns, as `sort=` names them. */
export const REMOTE_SORT_KEYS = ['address', 'total', 'established', 'syn', 'tw', 'scope'] as const;
export type RemoteSortKey = (typeof REMOTE_SORT_KEYS)[number];
/** /remote's scope buttons, as `scope=` names them. */
export const REMOTE_SCOPES = ['any', 'public', 'private', 'loopback', 'link-local'] as const;
export type RemoteScopeFilter = (typeof REMOTE_SCOPES)[number];
/** Rows one answer of `GET /api/remote` holds at most. */
export const REMOTE_MAX_LIMIT = 1000;

export function remoteSortKey(r: Pick<RemoteSummary, 'address' | 'total' | 'states'>, scope: AddressScope, k: RemoteSortKey): string | number {
  switch (k) {
    case 'address':
      return addressSortKey(r.address);
    case 'total':
      return r.total;
    case 'established':
      return r.states.ESTABLISHED ?? 0;
    case 'syn':
      return r.states.SYN_RECV ?? 0;
    case 'tw':
      return r.states.TIME_WAIT ?? 0;
    case 'scope':
      return scope;
  }
}

/** Whether a peer is in the scope asked for (`private` takes link-local too). */
export function inRemoteScope(peer: AddressScope, scope: RemoteScopeFilter): boolean {
  return scope === 'any' || peer === scope || (scope === 'private' && peer === 'link-local');
}

/** `GET /api/remote?q=&scope=&sort=&dir=&limit=`: one window of the ranked peers. */
export interface RemotePage {
  seq: number;
  time: number;
  /** Distinct peers. */
  total: number;
  /** Sockets with a peer. */
  connections: number;
  /** SYN_RECV over every peer (flood warning). */
  synTotal: number;
  /** Peers matching q and scope. */
  matched: number;
  /** The first `limit` of them in the order asked for. */
  rows: RemoteSummary[];
  /** Agent time for this answer (0 when the ranking was cached). */
  ms: number;
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

export function processKey(s: Socket): string {
  if (s.pid !== null) return `pid:${s.pid}`;
  return s.inode === 0 ? 'unowned:kernel' : 'unowned:unseen';
}

interface ProcessAcc {
  sum: ProcessSummary;
  listen: Map<string, number>;
  peers: Set<string>;
}

/** One row per owner (and one per kind of unowned socket), a socket at a time. */
export class ProcessTally {
  private readonly by = new Map<string, ProcessAcc>();

  constructor(private readonly processes: Readonly<Record<string, ProcessInfo>>) {}

  private get(key: string, s: Socket): ProcessAcc {
    let a = this.by.get(key);
    if (!a) {
      const info = s.pid !== null ? this.processes[String(s.pid)] : undefined;
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
          byProto: { t: 0, u: 0, w: 0, x: 0 },
          states: {},
          listening: [],
          peers: 0,
        },
        listen: new Map(),
        peers: new Set(),
      };
      this.by.set(key, a);
    }
    return a;
  }

  add(s: Socket): void {
    const a = this.get(processKey(s), s);
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

  /** Most sockets first, then by pid. */
  result(): ProcessSummary[] {
    const out: ProcessSummary[] = [];
    for (const a of this.by.values()) {
      a.sum.listening = [...a.listen].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1)).map((x) => x[0]);
      a.sum.peers = a.peers.size;
      out.push(a.sum);
    }
    out.sort((x, y) => y.total - x.total || (x.pid ?? -1) - (y.pid ?? -1));
    return out;
  }
}

export function processSummaries(snapshot: { sockets: readonly Socket[]; processes: Readonly<Record<string, ProcessInfo>> }): ProcessSummary[] {
  const t = new ProcessTally(snapshot.processes);
  for (const s of snapshot.sockets) t.add(s);
  return t.result();
}

/** `GET /api/processes`: every owner's row (a few hundred on a busy server; the page sorts and searches them). */
export interface ProcessesPage {
  seq: number;
  time: number;
  rows: ProcessSummary[];
  ms: number;
}

/** Rows of one process's connections in one answer of `GET /api/processes/:key`. */
export const PROCESS_CONNECTIONS_LIMIT = 1000;
/** Its peers listed, most sockets first. */
export const PROCESS_PEERS_LIMIT = 50;

/** Whether a socket is one of `pid`'s: its owner, or a sharer (fork, SO_REUSEPORT via fork, SCM_RIGHTS). */
export function heldBy(s: Socket, pid: number): boolean {
  return s.pid === pid || (s.otherPids !== undefined && s.otherPids.includes(pid));
}

/**
 * `GET /api/processes/:key?sort=&dir=` (key: a pid, `kernel` or `unseen`, as /processes/:pid
 * names them): one process's sockets, counts and peers, so its page takes the summary stream.
 */
export interface ProcessDetail {
  seq: number;
  time: number;
  key: string;
  pid: number | null;
  unowned: UnownedKind | null;
  /** /proc/<pid> as the snapshot has it; null when the process is gone or holds no socket seen. */
  info: ProcessInfo | null;
  /** comm of the process, or of its sockets when its record is gone. */
  program: string | null;
  /** Every socket it holds. */
  total: number;
  /** Its TCP sockets by state (NEW_SYN_RECV as SYN_RECV). */
  states: Partial<Record<TcpState, number>>;
  /** Its listening sockets, all of them. */
  listening: Socket[];
  /** Its other sockets, the first PROCESS_CONNECTIONS_LIMIT in the order asked for (snapshot order without `sort`). */
  connections: Socket[];
  connectionsTotal: number;
  /** Its peers, most sockets first, the first PROCESS_PEERS_LIMIT. */
  peers: RemoteSummary[];
  peersTotal: number;
  ms: number;
}

/** `GET /api/listening`: every listener (TCP LISTEN, unconnected UDP and raw), by port. */
export interface ListeningPage {
  seq: number;
  time: number;
  rows: ListeningService[];
  ms: number;
}

