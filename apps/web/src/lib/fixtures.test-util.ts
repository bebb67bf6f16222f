/** Builders for tests: small, typed snapshots and sockets. */
import { SCHEMA_VERSION, type InetSocket, type Snapshot, type UnixSocket } from '@netscope/shared';

let inode = 1000;

export function tcp(over: Partial<InetSocket> = {}): InetSocket {
  const s: InetSocket = {
    id: '',
    inode: ++inode,
    pid: 100,
    program: 'nginx',
    fd: 5,
    proto: 'tcp',
    family: 4,
    localAddress: '10.0.0.1',
    localPort: 443,
    remoteAddress: '203.0.113.7',
    remotePort: 51000,
    state: 'ESTABLISHED',
    stateCode: 1,
    recvQ: 0,
    sendQ: 0,
    uid: 33,
    user: 'www-data',
    timer: { kind: 'off', code: 0, expiresAt: null, retransmits: 0, probes: 0 },
    ...over,
  };
  if (!over.id) s.id = `${s.proto}:${s.localAddress}:${s.localPort}-${s.remoteAddress}:${s.remotePort}#${s.inode}`;
  return s;
}

export function unix(over: Partial<UnixSocket> = {}): UnixSocket {
  const s: UnixSocket = {
    id: '',
    inode: ++inode,
    pid: 1,
    program: 'systemd',
    fd: 3,
    proto: 'unix',
    refCount: 2,
    flags: 0x10000,
    acceptCon: true,
    type: 'STREAM',
    typeCode: 1,
    state: 'LISTENING',
    stateCode: 1,
    path: '/run/systemd/private',
    abstract: false,
    ...over,
  };
  if (!over.id) s.id = `unix#${s.inode}`;
  return s;
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    version: SCHEMA_VERSION,
    seq: 1,
    time: 1_700_000_000_000,
    host: { hostname: 'web01', kernel: '6.8.0', uptimeSec: 1000 },
    collector: { intervalMs: 1000, effectiveIntervalMs: 1000, stretchedReason: null, collectMs: 5, procRoot: '/proc' },
    sockets: [],
    processes: {
      '100': { pid: 100, program: 'nginx', cmdline: 'nginx: worker process', uid: 33, user: 'www-data', socketCount: 3 },
      '200': { pid: 200, program: 'postgres', cmdline: '/usr/lib/postgresql/16/bin/postgres -D /var/lib/pg', uid: 116, user: 'postgres', socketCount: 2 },
      '1': { pid: 1, program: 'systemd', cmdline: '/sbin/init', uid: 0, user: 'root', socketCount: 10 },
    },
    ownership: { status: 'complete', reason: null, isRoot: true, pidsScanned: 3, pidsDenied: 0, pidsVanished: 0, socketsUnowned: 0 },
    routes: [],
    interfaces: [],
    stats: { counters: {}, rates: {} },
    sockstat: {},
    multicast: [],
    conntrack: null,
    kernel: { tcpSyncookies: 1, tcpTwReuse: 2, tcpFinTimeoutSec: 60, tcpMaxTwBuckets: 262144, tcpMaxSynBacklog: 4096, somaxconn: 4096, ipLocalPortRange: [32768, 60999] },
    sources: {},
    ...over,
  };
}
