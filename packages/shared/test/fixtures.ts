/** Snapshot builders for shared-package tests. */
import { SCHEMA_VERSION, type InetSocket, type Snapshot, type UnixSocket } from '../src/index.js';

export function inet(port: number, over: Partial<InetSocket> = {}): InetSocket {
  return {
    id: `tcp 127.0.0.1:${port} 127.0.0.1:80 #${port}`,
    proto: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: port,
    remoteAddress: '127.0.0.1',
    remotePort: 80,
    state: 'ESTABLISHED',
    stateCode: 1,
    recvQ: 0,
    sendQ: 0,
    uid: 0,
    user: 'root',
    inode: port,
    timer: { kind: 'off', code: 0, expiresAt: null, retransmits: 0, probes: 0 },
    pid: 1,
    program: 'init',
    fd: 3,
    ...over,
  };
}

export function unix(inode: number, over: Partial<UnixSocket> = {}): UnixSocket {
  return {
    id: `unix #${inode}`,
    proto: 'unix',
    refCount: 2,
    flags: 0,
    acceptCon: false,
    type: 'STREAM',
    typeCode: 1,
    state: 'CONNECTED',
    stateCode: 3,
    path: null,
    abstract: false,
    inode,
    pid: null,
    program: null,
    fd: null,
    ...over,
  };
}

export function snapshot(seq: number, over: Partial<Snapshot> = {}): Snapshot {
  return {
    version: SCHEMA_VERSION,
    seq,
    time: 1_700_000_000_000 + seq * 1000,
    host: { hostname: 'h', kernel: '6.1.0', uptimeSec: 100 },
    collector: { intervalMs: 1000, effectiveIntervalMs: 1000, stretchedReason: null, collectMs: 5, procRoot: '/proc' },
    sockets: [],
    processes: {},
    ownership: { status: 'complete', reason: null, isRoot: true, pidsScanned: 1, pidsDenied: 0, pidsVanished: 0, socketsUnowned: 0 },
    routes: [],
    interfaces: [],
    stats: { counters: { Tcp: { InSegs: 1, CurrEstab: 1 } }, rates: { Tcp: { InSegs: null, CurrEstab: null } } },
    sockstat: {},
    multicast: [],
    conntrack: null,
    kernel: {
      tcpSyncookies: 1,
      tcpTwReuse: 2,
      tcpFinTimeoutSec: 60,
      tcpMaxTwBuckets: 262144,
      tcpMaxSynBacklog: 4096,
      somaxconn: 4096,
      ipLocalPortRange: [32768, 60999],
    },
    sources: {},
    ...over,
  };
}
