/**
 * `summariseSockets`: the snapshot's `socketSummary`, one pass over the sockets. The agent attaches
 * it every tick; a page talking to an agent that sends none computes the same thing itself.
 */
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

/** The `n` largest by `total`, most first; ties keep input order. No full sort of a 200k-entry flood. */
function topN<T extends { total: number }>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const a of items) {
    if (out.length === n && a.total <= out[n - 1]!.total) continue;
    let k = out.length;
    while (k > 0 && out[k - 1]!.total < a.total) k--;
    out.splice(k, 0, a);
    if (out.length > n) out.pop();
  }
  return out;
}

interface PeerAcc {
  address: string;
  total: number;
  states: Partial<Record<TcpState, number>>;
  /** First local port and its count; a Map only once a second port turns up (a flood is one port each). */
  port: number;
  portCount: number;
  ports: Map<number, number> | null;
  program: string | null;
  programs: Set<string> | null;
}

/**
 * The summary's one pass, a socket at a time: `add` each socket in snapshot order, then `finish`.
 * The agent feeds it in slices (a pass over 200k sockets is ~50-150 ms on a busy core).
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
  private readonly listeners: ListenerSummary[] = [];
  private readonly procs = new Map<string, { pid: number | null; program: string | null; total: number }>();

  constructor() {
    for (const p of PROTOS) this.byProto[p] = 0;
    for (const st of TCP_STATES) this.tcpStates[st] = 0;
  }

  add(s: Socket): void {
    this.total++;
    this.byProto[s.proto]++;
    if (s.pid === null && s.inode !== 0) this.ownerUnseen++;
    const pkey = s.pid === null ? '' : String(s.pid);
    const proc = this.procs.get(pkey);
    if (proc === undefined) this.procs.set(pkey, { pid: s.pid, program: s.program, total: 1 });
    else proc.total++;
    if (s.proto === 'unix') return;
    if (s.family === 4) this.ipv4++;
    else this.ipv6++;
    const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
    if (s.proto === 'tcp' || s.proto === 'tcp6') {
      this.tcpStates[st]++;
      this.tcpTotal++;
    }
    if (inetListening(s)) {
      this.listening++;
      if (s.proto !== 'raw' && s.proto !== 'raw6') {
        this.listeners.push({
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
    if (!hasPeer(s)) return;
    const lp = this.localPorts.get(s.localPort);
    if (lp === undefined) this.localPorts.set(s.localPort, { port: s.localPort, total: 1 });
    else lp.total++;
    let a = this.peers.get(s.remoteAddress);
    if (a === undefined) {
      a = { address: s.remoteAddress, total: 0, states: {}, port: s.localPort, portCount: 0, ports: null, program: s.program, programs: null };
      this.peers.set(s.remoteAddress, a);
    }
    a.total++;
    a.states[st] = (a.states[st] ?? 0) + 1;
    if (a.ports === null && s.localPort === a.port) a.portCount++;
    else {
      a.ports ??= new Map([[a.port, a.portCount]]);
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

  /** The summary of every socket added. Call once. */
  finish(limits: SummaryLimits = SUMMARY_LIMITS): SocketSummary {
    const topRemotes: RemotePeerSummary[] = topN(this.peers.values(), limits.remotes).map((a) => ({
      address: a.address,
      total: a.total,
      states: a.states,
      localPorts: a.ports ? [...a.ports].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, PER_PEER) : [[a.port, a.portCount]],
      programs: a.programs ? [...a.programs].sort().slice(0, PER_PEER) : a.program !== null ? [a.program] : [],
    }));
    const listeners = this.listeners;
    const listenersTotal = listeners.length;
    listeners.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto) || a.address.localeCompare(b.address));
    listeners.length = Math.min(listeners.length, limits.listeners);
    return {
      total: this.total,
      byProto: this.byProto,
      byFamily: { ipv4: this.ipv4, ipv6: this.ipv6 },
      tcpStates: this.tcpStates,
      tcpTotal: this.tcpTotal,
      listening: this.listening,
      ownerUnseen: this.ownerUnseen,
      remotePeers: this.peers.size,
      topRemotes,
      topLocalPorts: topN(this.localPorts.values(), limits.localPorts),
      listeners,
      listenersTotal,
      topProcesses: topN(this.procs.values(), limits.processes),
    };
  }
}

export function summariseSockets(sockets: readonly Socket[], limits: SummaryLimits = SUMMARY_LIMITS): SocketSummary {
  const pass = new SummaryPass();
  for (let i = 0; i < sockets.length; i++) pass.add(sockets[i]!);
  return pass.finish(limits);
}
