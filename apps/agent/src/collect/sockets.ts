/**
 * Raw socket records + owner scan + name maps → the snapshot's Socket records. Pure.
 */
import type { InetProto, InetSocket, Socket, SocketTimer, UnixSocket } from '@netscope/shared';
import type { RawInetSocket } from '../procfs/inet.js';
import type { RawUnixSocket } from '../procfs/unix.js';
import type { HolderIndex } from '../procfs/inode-holders.js';
import type { OwnerRef } from '../procfs/owners.js';

export interface NameMaps {
  /** uid → user name */
  users: ReadonlyMap<number, string>;
  /** `tcp/80` → `http` */
  services: ReadonlyMap<string, string>;
}

export interface OwnerLookup {
  byInode: HolderIndex;
  programOf(pid: number): string | null;
}

/** Stable id of an inet socket while it lives. Inode 0 (TIME_WAIT, request sockets) has only its tuple. */
/**
 * `tcp 127.0.0.1:5000 127.0.0.1:40000 #12345`. Built with join, not a template: V8 concatenates a
 * template piece by piece into a tree of cons strings (~9 per id, 32 B each), and every id is
 * kept for as long as its socket lives: at 200k sockets that was 55 MB of heap, copied by each
 * scavenge and walked again by JSON.stringify. join makes one flat string.
 */
export function inetSocketId(r: RawInetSocket): string {
  return r.inode === 0
    ? [r.proto, ' ', r.localAddress, ':', r.localPort, ' ', r.remoteAddress, ':', r.remotePort].join('')
    : [r.proto, ' ', r.localAddress, ':', r.localPort, ' ', r.remoteAddress, ':', r.remotePort, ' #', r.inode].join('');
}

export function unixSocketId(r: RawUnixSocket, index: number): string {
  return r.inode === 0 ? `unix @${index}` : `unix #${r.inode}`;
}

/** The services-file protocol of each inet proto (raw sockets have none). */
export const SERVICE_PROTO: Record<InetProto, string | null> = {
  tcp: 'tcp',
  tcp6: 'tcp',
  udp: 'udp',
  udp6: 'udp',
  udplite: 'udp',
  udplite6: 'udp',
  raw: null,
  raw6: null,
};

/** How far a timer estimate may drift before we call it changed (jiffies vs wall-clock jitter). */
export const TIMER_JITTER_MS = 1000;

/** Fill the owner fields of a socket (pid, program, fd, otherPids) from the owner lookup. */
export function applyOwner(
  target: { pid: number | null; program: string | null; fd: number | null; otherPids?: number[] },
  inode: number,
  owners: OwnerLookup | null,
): void {
  const holders = inode === 0 || owners === null ? undefined : owners.byInode.get(inode);
  if (holders === undefined || holders.length === 0) return;
  const first = holders[0]!;
  target.pid = first.pid;
  target.fd = first.fd;
  target.program = owners!.programOf(first.pid);
  const others = otherPidsOf(holders);
  if (others !== null) target.otherPids = others;
}

/** The pids holding a socket besides its first holder's, ascending; null when there are none. */
export function otherPidsOf(holders: readonly OwnerRef[]): number[] | null {
  if (holders.length < 2) return null;
  const first = holders[0]!.pid;
  const others = [...new Set(holders.map((h) => h.pid))].filter((p) => p !== first).sort((a, b) => a - b);
  return others.length > 0 ? others : null;
}

/**
 * `services.get(`${proto}/${port}`)` through a per-port cache: at 200k sockets the lookup keys
 * alone were 400k short-lived strings per cold build. The cache follows the services map object;
 * it is an array by port (a Map of numbers cost ~180 ns a lookup, two per socket).
 */
let serviceCacheOf: ReadonlyMap<string, string> | null = null;
const serviceCache = new Map<string, (string | null | undefined)[]>();
export function serviceName(services: ReadonlyMap<string, string>, proto: string, port: number): string | undefined {
  if (services !== serviceCacheOf) {
    serviceCacheOf = services;
    serviceCache.clear();
  }
  if (!(port >= 0 && port <= 0xffff && (port | 0) === port)) return services.get(`${proto}/${port}`);
  let byPort = serviceCache.get(proto);
  if (byPort === undefined) serviceCache.set(proto, (byPort = new Array<string | null | undefined>(0x10000).fill(undefined)));
  let name = byPort[port];
  if (name === undefined) {
    name = services.get(`${proto}/${port}`) ?? null;
    byPort[port] = name;
  }
  return name ?? undefined;
}

/**
 * The timer of every socket whose timer is off (most established sockets): one shared, frozen
 * object instead of one per socket (200k sockets: ~12 MB less live heap, and less for the
 * scavenger to copy). Nothing writes to a socket's timer; frozen so nothing can.
 */
const TIMER_OFF: SocketTimer = Object.freeze({ kind: 'off', code: 0, expiresAt: null, retransmits: 0, probes: 0 });

/** inet-json.ts writes the JSON of what this builds, field for field in this order: change both. */
export function buildInetSocket(
  r: RawInetSocket,
  now: number,
  names: NameMaps,
  owners: OwnerLookup | null,
  prevTimers: ReadonlyMap<string, number>,
): InetSocket {
  const id = inetSocketId(r);
  let expiresAt: number | null = null;
  if (r.timerCode !== 0) {
    const estimate = now + r.timerRemainingMs;
    const prev = prevTimers.get(id);
    expiresAt = prev !== undefined && Math.abs(prev - estimate) < TIMER_JITTER_MS ? prev : estimate;
  }
  const s: InetSocket = {
    id,
    proto: r.proto,
    family: r.family,
    localAddress: r.localAddress,
    localPort: r.localPort,
    remoteAddress: r.remoteAddress,
    remotePort: r.remotePort,
    state: r.state,
    stateCode: r.stateCode,
    recvQ: r.recvQ,
    sendQ: r.sendQ,
    uid: r.uid,
    user: names.users.get(r.uid) ?? null,
    inode: r.inode,
    timer:
      r.timerCode === 0 && r.timerKind === 'off' && r.retransmits === 0 && r.probes === 0
        ? TIMER_OFF
        : { kind: r.timerKind, code: r.timerCode, expiresAt, retransmits: r.retransmits, probes: r.probes },
    pid: null,
    program: null,
    fd: null,
  };
  const sp = SERVICE_PROTO[r.proto];
  if (sp !== null) {
    const local = r.localPort === 0 ? undefined : serviceName(names.services, sp, r.localPort);
    const remote = r.remotePort === 0 ? undefined : serviceName(names.services, sp, r.remotePort);
    if (local !== undefined) s.localService = local;
    if (remote !== undefined) s.remoteService = remote;
  }
  applyOwner(s, r.inode, owners);
  return s;
}

export function buildUnixSocket(r: RawUnixSocket, index: number, owners: OwnerLookup | null): UnixSocket {
  const s: UnixSocket = {
    id: unixSocketId(r, index),
    proto: 'unix',
    refCount: r.refCount,
    flags: r.flags,
    acceptCon: r.acceptCon,
    type: r.type,
    typeCode: r.typeCode,
    state: r.state,
    stateCode: r.stateCode,
    path: r.path,
    abstract: r.abstract,
    inode: r.inode,
    pid: null,
    program: null,
    fd: null,
  };
  applyOwner(s, r.inode, owners);
  return s;
}

/** A copy of `s` with its owner fields looked up again (after the owner walk's second pass). */
export function withOwner<S extends Socket>(s: S, owners: OwnerLookup | null): S {
  const copy: S = { ...s, pid: null, program: null, fd: null };
  delete copy.otherPids;
  applyOwner(copy, s.inode, owners);
  return copy;
}

/** Sockets with an inode that no visible process holds. */
export function countUnowned(sockets: readonly Socket[]): number {
  let n = 0;
  for (const s of sockets) if (s.inode !== 0 && s.pid === null) n++;
  return n;
}
