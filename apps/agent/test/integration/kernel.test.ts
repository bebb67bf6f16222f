/**
 * Truth is the kernel: open real loopback sockets in a child process, collect a snapshot from the
 * live /proc, and compare it row by row with what `ss -tanp`/`ss -uanp` print for the same ports,
 * pid and program included; routes and interfaces against `netstat -rn` and `netstat -i`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InetSocket, Snapshot } from '@netscope/shared';
import { Collector } from '../../src/collect/collector.js';

interface Zoo {
  pid: number;
  listen4: number;
  listen6: number;
  ports: number[];
  timeWait: { local: number; remote: number };
  finWait2: { local: number; remote: number };
  closeWait: { local: number; remote: number };
  mapped: { listen: number; client: number };
}

const ZOO = fileURLToPath(new URL('../helpers/socket-zoo.mjs', import.meta.url));
const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  UNCONN: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
};

export interface SsRow {
  state: string;
  recvQ: number;
  sendQ: number;
  local: string;
  localPort: number;
  peer: string;
  peerPort: number;
  pid: number | null;
  program: string | null;
}

function splitEndpoint(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  let host = text.slice(0, i).replace(/^\[|\]$/g, '');
  host = host.replace(/%.*$/, '');
  const port = text.slice(i + 1);
  return [host === '0.0.0.0' || host === '::' ? '*' : host, port === '*' ? 0 : Number(port)];
}

/** Parse `ss -tanpH` / `ss -uanpH` output. */
export function parseSs(text: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [state, rq, sq, local, peer] = f as [string, string, string, string, string];
    const users = /users:\(\("([^"]*)",pid=(\d+),fd=\d+\)/.exec(line);
    const [l, lp] = splitEndpoint(local);
    const [p, pp] = splitEndpoint(peer);
    rows.push({
      state: SS_STATE[state] ?? state,
      recvQ: Number(rq),
      sendQ: Number(sq),
      local: l,
      localPort: lp,
      peer: p,
      peerPort: pp,
      pid: users ? Number(users[2]) : null,
      program: users ? users[1]! : null,
    });
  }
  return rows;
}

function norm(addr: string): string {
  return addr === '0.0.0.0' || addr === '::' ? '*' : addr;
}

function key(r: { local: string; localPort: number; peer: string; peerPort: number }): string {
  return `${r.local}:${r.localPort} ${r.peer}:${r.peerPort}`;
}

function asRow(s: InetSocket): SsRow {
  return {
    state: s.state,
    recvQ: s.recvQ,
    sendQ: s.sendQ,
    local: norm(s.localAddress),
    localPort: s.localPort,
    peer: norm(s.remoteAddress),
    peerPort: s.remotePort,
    pid: s.pid,
    program: s.program,
  };
}

let child: ChildProcess;
let zoo: Zoo;
let snap: Snapshot;
let ssTcp: SsRow[];
let ssUdp: SsRow[];

beforeAll(async () => {
  child = spawn(process.execPath, [ZOO], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  zoo = await new Promise<Zoo>((resolve, reject) => {
    rl.once('line', (line) => resolve(JSON.parse(line) as Zoo));
    child.once('exit', (code) => reject(new Error(`socket-zoo exited with ${code}`)));
  });
  const collector = new Collector({
    roots: { proc: '/proc', sys: '/sys', etc: '/etc' },
    intervalMs: 1000,
    owners: true,
    live: true,
  });
  snap = await collector.collect();
  // Only the zoo's ports: the machine may hold many other sockets (benchmarks, other tests).
  const filter = `( ${zoo.ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )`;
  const ss = (flags: string) => execFileSync('ss', [flags, filter], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  ssTcp = parseSs(ss('-tanpH'));
  ssUdp = parseSs(ss('-uanpH'));
}, 120_000);

afterAll(() => {
  child?.stdin?.end();
  if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
});

/**
 * The zoo's own sockets: those its process holds, plus its TIME_WAIT (which no process holds).
 * Matching on ports alone is not enough on a busy machine: other sockets reuse the same numbers.
 */
function isZoo(r: SsRow): boolean {
  if (r.pid === zoo.pid) return true;
  return r.state === 'TIME_WAIT' && r.localPort === zoo.timeWait.local && r.peerPort === zoo.timeWait.remote;
}

function ours(protos: string[]): SsRow[] {
  return snap.sockets
    .filter((s): s is InetSocket => protos.includes(s.proto))
    .map(asRow)
    .filter(isZoo);
}

function theirs(rows: SsRow[]): SsRow[] {
  return rows.filter(isZoo);
}

const sortRows = (rows: SsRow[]) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));

describe('sockets against ss on the live kernel', () => {
  it('reports every TCP socket of the zoo exactly as ss -tanp does, owner included', () => {
    const mine = sortRows(ours(['tcp', 'tcp6']));
    const ss = sortRows(theirs(ssTcp));
    // ss puts the listen backlog in Send-Q for LISTEN (netlink); /proc has no such field.
    const comparable = (rows: SsRow[]) => rows.map((r) => (r.state === 'LISTEN' ? { ...r, sendQ: 0 } : r));
    expect(comparable(mine)).toEqual(comparable(ss));
    // and the zoo really produced the states we set out to test
    const states = new Set(mine.map((r) => r.state));
    for (const s of ['LISTEN', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT2', 'TIME_WAIT']) expect(states).toContain(s);
  });

  it('reports UDP sockets exactly as ss -uanp does', () => {
    const mine = sortRows(ours(['udp', 'udp6']));
    const ss = sortRows(theirs(ssUdp));
    expect(mine).toEqual(ss);
    expect(mine.length).toBe(3);
  });

  it('names the owner of the zoo sockets and leaves TIME_WAIT unowned', () => {
    const tcp = ours(['tcp', 'tcp6']);
    const listen = tcp.find((r) => r.state === 'LISTEN' && r.localPort === zoo.listen4)!;
    expect(listen).toMatchObject({ pid: zoo.pid, program: 'node' });
    const listen6 = tcp.find((r) => r.state === 'LISTEN' && r.localPort === zoo.listen6)!;
    expect(listen6.local).toBe('::1');
    const tw = tcp.find((r) => r.state === 'TIME_WAIT')!;
    expect(tw).toBeDefined();
    expect(tw.pid).toBeNull();
    expect(snap.processes[String(zoo.pid)]).toMatchObject({ program: 'node', cmdline: expect.stringContaining('socket-zoo.mjs') });
  });

  it('keeps v4-mapped addresses as ss prints them', () => {
    const tcp = ours(['tcp6']);
    const mapped = tcp.filter((r) => r.localPort === zoo.mapped.listen);
    expect(mapped.map((r) => r.local)).toEqual(['::ffff:127.0.0.1', '::ffff:127.0.0.1']);
  });

  it('reports an all-ok socket source list and ownership as root', () => {
    expect(snap.sources.tcp?.state).toBe('ok');
    expect(snap.sources.unix?.state).toBe('ok');
    if (process.geteuid?.() === 0) expect(snap.ownership.status).toBe('complete');
  });
});

describe('routes and interfaces against netstat', () => {
  it('has the IPv4 routes of netstat -rn', () => {
    const out = execFileSync('netstat', ['-rn'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const theirsRoutes = out
      .split('\n')
      .slice(2)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 8)
      .map((f) => `${f[0]} ${f[1]} ${f[2]} ${f[3]} ${f[7]}`)
      .sort();
    const mine = snap.routes
      .filter((r) => r.family === 4)
      .map((r) => `${r.destination} ${r.gateway} ${r.genmask} ${r.flags} ${r.iface}`)
      .sort();
    expect(mine).toEqual(theirsRoutes);
  });

  it('has the interfaces of netstat -i with their MTU and flags', () => {
    const out = execFileSync('netstat', ['-i'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const rows = out
      .split('\n')
      .slice(2)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 11);
    const mine = new Map(snap.interfaces.map((i) => [i.name, i]));
    expect(rows.length).toBeGreaterThan(0);
    for (const f of rows) {
      const i = mine.get(f[0]!);
      expect(i, `interface ${f[0]}`).toBeDefined();
      expect(i!.mtu).toBe(Number(f[1]));
      expect(i!.flags).toBe(f[10]);
      // counters move between the two reads; ours was read first
      expect(i!.counters.rxPackets).toBeLessThanOrEqual(Number(f[2]));
    }
    // netstat -i lists the interfaces that are up; so must we
    const up = snap.interfaces.filter((i) => i.flags.includes('U')).map((i) => i.name);
    expect(up.sort()).toEqual(rows.map((f) => f[0]).sort());
  });
});
