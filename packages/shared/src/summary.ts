/**
 * `summariseSockets`: the snapshot's `socketSummary`, one pass over the sockets. The agent attaches
 * it every tick; a page talking to an agent that sends none computes the same thing itself.
 */
import { compareText } from './compare.js';
import { firstN } from './views.js';
import {
  TCP_STATES,
  type InetSocket,
  type ListenerSummary,
  type RemotePeerSummary,
  type Socket,
  type SocketProto,
  type SocketSummary,
  type TcpState,
} from './schema.js';

export interface SummaryLimits {
  remotes: number;
  localPorts: number;
  listeners: number;
  processes: number;
}

export const SUMMARY_LIMITS: Readonly<SummaryLimits> = { remotes: 10, localPorts: 10, listeners: 20, processes: 10 };
/** Per remote address: local ports and programs kept. */
const PER_PEER = 5;

const PROTOS: readonly SocketProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'unix'];

/** netstat's idea of listening: TCP LISTEN; UDP/raw not connected. */
function inetListening(s: InetSocket): boolean {
  return s.proto === 'tcp' || s.proto === 'tcp6' ? s.state === 'LISTEN' : s.state !== 'ESTABLISHED';
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '::ffff:0.0.0.0']);

/** Has a peer: not listening (TCP), remote address or port set. */
function hasPeer(s: InetSocket): boolean {
  if ((s.proto === 'tcp' || s.proto === 'tcp6') && s.state === 'LISTEN') return false;
  return !(UNSPECIFIED.has(s.remoteAddress) && s.remotePort === 0);
}

/**
 * The `n` largest by `total`, most first; ties by `before` (a key order), so the result does not
 * depend on the order the items were counted in. No full sort of a 200k-entry flood.
 */
function topN<T extends { total: number }>(items: Iterable<T>, n: number, before: (a: T, b: T) => boolean): T[] {
  return firstN(items, n, (a, b) => a.total > b.total || (a.total === b.total && before(a, b)));
}

interface PeerAcc {
  address: string;
  total: number;
  states: Partial<Record<TcpState, number>>;
  /** First local port and its count; a Map only once a second port turns up (a flood is one port each). */
  port: number;
  portCount: number;
  ports: Map<number, number> | null;
  /** Sockets per program (owner seen); a Map only once a second program turns up. */
  program: string | null;
  programCount: number;
  programs: Map<string, number> | null;
}

interface ProcAcc {
  pid: number | null;
  program: string | null;
  total: number;
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

/**
 * The summary's counts, a socket at a time: `add` each socket (in any order), `remove` one added
 * earlier (the very object, or one equal to it), `finish` for the summary of what is counted now.
 * The agent counts a tick's changes only (the sockets that left, the ones that came): at 200k
 * sockets a full pass was ~50-150 ms on a busy core, on every tick where anything changed.
 */
export class SummaryPass {
  private total = 0;
  private readonly byProto = {} as Record<SocketProto, number>;
  private readonly tcpStates = {} as Record<TcpState, number>;
  private tcpTotal = 0;
  private ipv4 = 0;
  private ipv6 = 0;
  private listening = 0;
  private ownerUnseen = 0;
  private readonly peers = new Map<string, PeerAcc>();
  private readonly localPorts = new Map<number, { port: number; total: number }>();
  private readonly listeners = new Map<string, ListenerSummary>();
  private readonly procs = new Map<string, ProcAcc>();

  constructor() {
    for (const p of PROTOS) this.byProto[p] = 0;
    for (const st of TCP_STATES) this.tcpStates[st] = 0;
  }

  add(s: Socket): void {
    this.count(s, 1);
  }

  remove(s: Socket): void {
    this.count(s, -1);
  }

  private count(s: Socket, by: 1 | -1): void {
    this.total += by;
    this.byProto[s.proto] += by;
    if (s.pid === null && s.inode !== 0) this.ownerUnseen += by;
    // One row per process (a pid that exec'd meanwhile is two, as its sockets say).
    const pkey = s.pid === null ? '' : `${s.pid} ${s.program ?? ''}`;
    const proc = this.procs.get(pkey);
    if (proc === undefined) this.procs.set(pkey, { pid: s.pid, program: s.program, total: by });
    else if ((proc.total += by) === 0) this.procs.delete(pkey);
    if (s.proto === 'unix') return;
    if (s.family === 4) this.ipv4 += by;
    else this.ipv6 += by;
    const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
    if (s.proto === 'tcp' || s.proto === 'tcp6') {
      this.tcpStates[st] += by;
      this.tcpTotal += by;
    }
    if (inetListening(s)) {
      this.listening += by;
      if (s.proto !== 'raw' && s.proto !== 'raw6') {
        if (by < 0) this.listeners.delete(s.id);
        else {
          this.listeners.set(s.id, {
            id: s.id,
            proto: s.proto,
            family: s.family,
            address: s.localAddress,
            port: s.localPort,
            service: s.localService ?? null,
            pid: s.pid,
            program: s.program,
          });
        }
      }
    }
    if (!hasPeer(s)) return;
    const lp = this.localPorts.get(s.localPort);
    if (lp === undefined) this.localPorts.set(s.localPort, { port: s.localPort, total: by });
    else if ((lp.total += by) === 0) this.localPorts.delete(s.localPort);
    let a = this.peers.get(s.remoteAddress);
    if (a === undefined) {
      a = { address: s.remoteAddress, total: 0, states: {}, port: s.localPort, portCount: 0, ports: null, program: s.program, programCount: 0, programs: null };
      this.peers.set(s.remoteAddress, a);
    }
    if ((a.total += by) === 0) {
      this.peers.delete(s.remoteAddress);
      return;
    }
    const n = (a.states[st] ?? 0) + by;
    if (n === 0) delete a.states[st];
    else a.states[st] = n;
    if (a.ports === null && s.localPort === a.port) a.portCount += by;
    else bump((a.ports ??= new Map(a.portCount !== 0 ? [[a.port, a.portCount]] : [])), s.localPort, by);
    if (s.program !== null) {
      if (a.programs === null && (a.program === null || a.program === s.program)) {
        a.program = s.program;
        a.programCount += by;
      } else bump((a.programs ??= new Map(a.program !== null && a.programCount !== 0 ? [[a.program, a.programCount]] : [])), s.program, by);
    }
  }

  /** The summary of every socket counted now (counting may go on after). */
  finish(limits: SummaryLimits = SUMMARY_LIMITS): SocketSummary {
    const topRemotes: RemotePeerSummary[] = topN(this.peers.values(), limits.remotes, (x, y) => x.address < y.address).map((a) => ({
      address: a.address,
      total: a.total,
      states: { ...a.states },
      localPorts: a.ports ? [...a.ports].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, PER_PEER) : [[a.port, a.portCount]],
      programs: a.programs ? [...a.programs.keys()].sort().slice(0, PER_PEER) : a.program !== null && a.programCount > 0 ? [a.program] : [],
    }));
    const listeners = [...this.listeners.values()];
    const listenersTotal = listeners.length;
    listeners.sort((a, b) => a.port - b.port || compareText(a.proto, b.proto) || compareText(a.address, b.address) || compareText(a.id, b.id));
    listeners.length = Math.min(listeners.length, limits.listeners);
    return {
      total: this.total,
      byProto: { ...this.byProto },
      byFamily: { ipv4: this.ipv4, ipv6: this.ipv6 },
      tcpStates: { ...this.tcpStates },
      tcpTotal: this.tcpTotal,
      listening: this.listening,
      ownerUnseen: this.ownerUnseen,
      remotePeers: this.peers.size,
      topRemotes,
      topLocalPorts: topN(this.localPorts.values(), limits.localPorts, (x, y) => x.port < y.port).map((p) => ({ ...p })),
      listeners,
      listenersTotal,
      topProcesses: topN(this.procs.values(), limits.processes, (x, y) => (x.pid ?? -1) < (y.pid ?? -1) || (x.pid === y.pid && (x.program ?? '') < (y.program ?? ''))).map((p) => ({ ...p })),
    };
  }
}

export function summariseSockets(sockets: readonly Socket[], limits: SummaryLimits = SUMMARY_LIMITS): SocketSummary {
  const pass = new SummaryPass();
  for (let i = 0; i < sockets.length; i++) pass.add(sockets[i]!);
  return pass.finish(limits);
}
