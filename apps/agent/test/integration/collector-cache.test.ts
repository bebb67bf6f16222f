// The caching collector (Socket objects reused for unchanged sock_diag records or /proc/net lines,
// incremental owner walk) against a cold collector (reuse: false: parse everything, full fd walk),
// and TCP from sock_diag against TCP from /proc/net/tcp{,6}, on the real kernel,
// tick after tick, while this test opens, closes and reopens real loopback sockets (the kernel
// hands closed fd numbers out again), and shares sockets with a child process and stops sharing.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InetSocket, Snapshot, Socket } from '@netscope/shared';
import { Collector } from '../../src/collect/collector.js';

const roots = { proc: '/proc', sys: '/sys', etc: '/etc' };
const cached = new Collector({ roots, intervalMs: 1000, owners: true, live: true });
const cachedProc = new Collector({ roots, intervalMs: 1000, owners: true, live: true, tcpSource: 'proc' });
const opts = { roots, intervalMs: 1000, owners: true, live: true, reuse: false };

const held: net.Socket[] = [];
let server: net.Server;
let port = 0;
/** An IPv6 listener too: sock_diag serves both families from one dump, which must split them right. */
let server6: net.Server;
let port6 = 0;
const held6: net.Socket[] = [];
/** The local ports of every client this test connected to each listener, closed ones too. */
const clientPorts = new Set<number>();
const clientPorts6 = new Set<number>();
let child: ChildProcess | null = null;
const dir = mkdtempSync(join(tmpdir(), 'netscope-cache-it-'));

async function openPair(): Promise<net.Socket> {
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const c = net.connect({ port, host: '127.0.0.1' });
  await once(c, 'connect');
  clientPorts.add(c.localPort!);
  const [s] = await accepted;
  held.push(c, s);
  return c;
}

async function openPair6(): Promise<void> {
  const accepted = once(server6, 'connection') as Promise<[net.Socket]>;
  const c = net.connect({ port: port6, host: '::1' });
  await once(c, 'connect');
  clientPorts6.add(c.localPort!);
  const [s] = await accepted;
  held6.push(c, s);
}

const settle = () => new Promise((r) => setTimeout(r, 150));

/**
 * Our sockets, comparable: ordered by id, timer estimate left out. The listeners, and connections
 * between a listener and one of our clients (our TIME_WAITs included). Not every socket with a
 * listener's port: a TIME_WAIT another test left, from a connection to an earlier listener on
 * that port, has it too, and can expire between two collections.
 */
function ours(snap: Snapshot): unknown[] {
  const end = (addr: string, lport: number, clients: Set<number>) => (s: InetSocket) =>
    s.localAddress === addr &&
    ((s.state === 'LISTEN' && s.localPort === lport) ||
      (s.remoteAddress === addr &&
        ((s.localPort === lport && clients.has(s.remotePort)) || (s.remotePort === lport && clients.has(s.localPort)))));
  return snap.sockets
    .filter((s): s is InetSocket => s.proto === 'tcp' || s.proto === 'tcp6')
    .filter((s) => end('127.0.0.1', port, clientPorts)(s) || end('::1', port6, clientPorts6)(s))
    .map((s: Socket) => ({ ...s, timer: { ...(s as InetSocket).timer, expiresAt: null } }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One tick of the caching collector, compared with a cold collection right after it. */
async function tick(): Promise<{ warm: Snapshot; warmProc: Snapshot; count: number }> {
  const warm = await cached.collect();
  const warmProc = await cachedProc.collect();
  const cold = await new Collector(opts).collect();
  const coldProc = await new Collector({ ...opts, tcpSource: 'proc' }).collect();
  expect(warm.sources.tcp?.path).toMatch(/^netlink sock_diag/);
  expect(coldProc.sources.tcp?.path).toBe('/proc/net/tcp');
  const mine = ours(warm);
  expect(mine.length).toBeGreaterThan(0);
  expect(mine).toEqual(ours(cold));
  expect(ours(warmProc)).toEqual(ours(coldProc));
  // the two kernel interfaces agree on every field of every one of our sockets
  expect(mine).toEqual(ours(coldProc));
  return { warm, warmProc, count: mine.length };
}

beforeAll(async () => {
  server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
  server6 = net.createServer((s) => s.on('error', () => {}));
  server6.listen(0, '::1');
  await once(server6, 'listening');
  port6 = (server6.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of [...held, ...held6]) s.destroy();
  server6.close();
  if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('caching collector = cold collector on the live kernel', () => {
  it('stays equal while sockets open, close, and fd numbers are reused', async () => {
    for (let i = 0; i < 20; i++) await openPair();
    for (let i = 0; i < 3; i++) await openPair6();
    await settle();
    const first = await tick();
    expect(first.count).toBe(48); // listener + 20 pairs, and the ::1 listener + 3 pairs
    expect(ours(first.warm).filter((s) => (s as InetSocket).proto === 'tcp6').length).toBe(7);
    expect(ours(first.warm).every((s) => (s as InetSocket).pid === process.pid)).toBe(true);

    const second = await tick();
    // unchanged lines reuse last tick's objects
    const byId = new Map(first.warm.sockets.map((s) => [s.id, s]));
    const reused = second.warm.sockets.filter((s) => byId.get(s.id) === s).length;
    expect(reused).toBeGreaterThanOrEqual(48);
    const byIdProc = new Map(first.warmProc.sockets.map((s) => [s.id, s]));
    expect(second.warmProc.sockets.filter((s) => byIdProc.get(s.id) === s).length).toBeGreaterThanOrEqual(48);

    for (let round = 0; round < 6; round++) {
      // close a few pairs (client first: TIME_WAIT on our side), then open as many: the kernel
      // gives the new sockets the lowest free fd numbers, i.e. the ones just closed. Odd rounds
      // open first and close after, as a busy server does between two ticks: the fd count is
      // the same, the new fds sit at other numbers and the closed ones leave holes (the owner
      // cache probes the free numbers instead of listing the directory). A new socket may also
      // take the number of a non-socket fd this process closed meanwhile (the collectors' own
      // threads open and close some).
      const openFirst = round % 2 === 1;
      const closing = held.splice(0, 10);
      const closing6 = held6.splice(0, 2);
      if (!openFirst) {
        for (const s of [...closing, ...closing6]) s.destroy();
        await settle();
      }
      for (let k = 0; k < 5; k++) await openPair();
      await openPair6();
      if (openFirst) for (const s of [...closing, ...closing6]) s.destroy();
      await settle();
      await tick();
    }
  });

  it('stays equal when a child process shares our sockets and when it stops sharing', async () => {
    const script = join(dir, 'holder.cjs');
    writeFileSync(
      script,
      `const kept = []; process.on('message', (m, h) => { if (h) kept.push(h); if (m === 'drop') { kept.splice(0).forEach((s) => s.destroy()); } process.send('ok'); });`,
    );
    child = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const ack = () => once(child!, 'message');
    // hand three of our client sockets to the child, keeping our copies: both pids hold them
    for (const s of held.filter((_, i) => i % 2 === 0).slice(0, 3)) {
      child.send('hold', s, { keepOpen: true });
      await ack();
    }
    await settle();
    const { warm } = await tick();
    expect(ours(warm).some((s) => ((s as InetSocket).otherPids ?? []).includes(child!.pid!))).toBe(true);

    // we close our copies (the child keeps the sockets alive) and reuse the fd numbers
    const shared = held.filter((_, i) => i % 2 === 0).slice(0, 3);
    for (const s of shared) {
      held.splice(held.indexOf(s), 1);
      s.destroy();
    }
    for (let k = 0; k < 3; k++) await openPair();
    await settle();
    const after = await tick();
    expect(ours(after.warm).some((s) => (s as InetSocket).pid === child!.pid)).toBe(true);

    // the child drops them too
    child.send('drop');
    await ack();
    await settle();
    await tick();
    await tick();
  });
});
