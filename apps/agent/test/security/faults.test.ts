/**
 * /proc faults through --proc-root (issue 5): missing, unreadable, malformed, truncated and huge
 * files, processes that vanish mid-scan and fds we may not read. Each must give a partial
 * snapshot with the cause in `sources` (or `ownership`), exit 0, and no log line — per tick or
 * otherwise. EACCES cannot be shown as root (root ignores modes), so those cases run the agent
 * as `nobody` through runuser/setpriv; a directory where a file should be gives EISDIR as anyone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Snapshot } from '@netscope/shared';
import { makeProcTree, runAgent, startAgent, tcpTable, type ProcTree } from './helpers/agent.js';

const trees: ProcTree[] = [];
function tree(opts: Parameters<typeof makeProcTree>[0] = {}): ProcTree {
  const t = makeProcTree(opts);
  trees.push(t);
  return t;
}
afterAll(() => trees.forEach((t) => t.cleanup()));
const figures: string[] = [];
afterAll(() => console.log(`fault figures:\n  ${figures.join('\n  ')}`));

async function once(t: ProcTree, opts: Parameters<typeof runAgent>[1] = {}): Promise<{ snap: Snapshot; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await runAgent(['--once', ...t.args], opts);
  const ms = Date.now() - t0;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { snap: JSON.parse(r.stdout) as Snapshot, stderr: r.stderr, ms };
}

/** Run as an unprivileged user, if this machine lets us (we are root and have runuser or setpriv). */
function asNobody(): string[] | null {
  if (process.geteuid?.() !== 0) return null;
  for (const wrapper of [['runuser', '-u', 'nobody', '--'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']]) {
    try {
      execFileSync(wrapper[0]!, [...wrapper.slice(1), 'true'], { stdio: 'ignore' });
      return wrapper;
    } catch {
      /* try the next */
    }
  }
  return null;
}

/** Make a tree readable by nobody (mkdtemp makes its root 0700). */
function openUp(t: ProcTree): void {
  chmodSync(t.dir, 0o755);
}

describe('missing files: a kernel without IPv6, conntrack or UDP-Lite', () => {
  it('each absent source is `missing`, the rest of the snapshot is whole', async () => {
    const t = tree();
    t.remove('proc/net/tcp6');
    t.remove('proc/net/udp6');
    const { snap } = await once(t);
    for (const s of ['tcp6', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'nf_conntrack', 'snmp6', 'if_inet6'] as const) {
      expect(snap.sources[s]?.state, s).toBe('missing');
    }
    expect(snap.sources.tcp?.state).toBe('ok');
    expect(snap.sockets.filter((s) => s.proto === 'tcp')).toHaveLength(50);
    expect(snap.conntrack).toBeNull();
    figures.push(`missing: ${Object.entries(snap.sources).filter(([, v]) => v?.state === 'missing').length} sources reported missing, 50 tcp sockets intact`);
  });

  it('an empty proc tree still yields a snapshot (every source missing), not a crash', async () => {
    const t = tree();
    t.remove('proc/net');
    t.remove('proc/uptime');
    t.remove('proc/sys');
    const { snap } = await once(t);
    expect(snap.sockets).toEqual([]);
    expect(snap.sources.tcp?.state).toBe('missing');
  });
});

describe('unreadable files', () => {
  it('a directory where a file should be → `unreadable` with the errno (EISDIR)', async () => {
    const t = tree();
    t.remove('proc/net/tcp6');
    mkdirSync(join(t.proc, 'net/tcp6'));
    t.remove('proc/net/snmp');
    mkdirSync(join(t.proc, 'net/snmp'));
    const { snap } = await once(t);
    expect(snap.sources.tcp6?.state).toBe('unreadable');
    expect(snap.sources.tcp6?.message).toMatch(/EISDIR/);
    expect(snap.sources.snmp?.state).toBe('unreadable');
    expect(snap.sources.tcp?.state).toBe('ok');
  });

  it('a file we may not read (EACCES, as nobody) → `unreadable`, others intact', async (ctx) => {
    const wrapper = asNobody();
    if (!wrapper) return ctx.skip();
    const t = tree();
    openUp(t);
    chmodSync(join(t.proc, 'net/udp'), 0o000);
    chmodSync(join(t.proc, 'net/unix'), 0o000);
    const { snap } = await once(t, { wrapper });
    expect(snap.sources.udp?.state).toBe('unreadable');
    expect(snap.sources.udp?.message).toMatch(/EACCES/);
    expect(snap.sources.unix?.state).toBe('unreadable');
    expect(snap.sources.tcp?.state).toBe('ok');
    expect(snap.ownership.isRoot).toBe(false);
    figures.push(`EACCES as nobody: udp ${snap.sources.udp?.state} (${snap.sources.udp?.message})`);
  });
});

describe('malformed, truncated and garbage files', () => {
  it('bad lines among good ones are skipped and counted, with a sample; the good ones kept', async () => {
    const t = tree();
    const good = tcpTable(20).split('\n');
    const mixed = [good[0], good[1], 'garbage line here', good[2], '   3: ZZZZZZZZ:0016 00000000:0000 0A', good[3], '\u0000\u0001garbage\u0002', ...good.slice(4)].join('\n');
    t.write('proc/net/tcp', mixed);
    const { snap } = await once(t);
    const s = snap.sources.tcp!;
    expect(s.state).toBe('ok');
    expect(s.badLines).toBe(3);
    expect(s.sample).toBeTruthy();
    expect(snap.sockets.filter((x) => x.proto === 'tcp')).toHaveLength(20);
  });

  it('a file truncated mid-line: the partial line is counted bad, the rest kept', async () => {
    const t = tree();
    const text = tcpTable(10);
    t.write('proc/net/tcp', text.slice(0, text.length - 40));
    const { snap } = await once(t);
    expect(snap.sources.tcp?.badLines).toBe(1);
    expect(snap.sockets.filter((x) => x.proto === 'tcp')).toHaveLength(9);
  });

  it('whole files of garbage (random bytes, a wrong header, binary) → `malformed`, never a throw', async () => {
    const t = tree();
    t.write('proc/net/tcp', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    t.write('proc/net/unix', 'this is not /proc/net/unix\nat all\n');
    t.write('proc/net/udp', 'sl local rem\n0: x y z\n');
    t.write('proc/net/snmp', 'Ip: Forwarding\nIp: notanumber\n');
    t.write('proc/net/dev', '\u0000'.repeat(1000));
    t.write('proc/net/route', 'Iface\tDestination\nnope\n');
    t.write('proc/uptime', 'soon\n');
    const { snap } = await once(t);
    for (const s of ['tcp', 'unix', 'udp'] as const) expect(snap.sources[s]?.state, s).toBe('malformed');
    figures.push(
      `garbage: ${Object.entries(snap.sources)
        .filter(([, v]) => v?.state === 'malformed')
        .map(([k, v]) => `${k} (${v?.badLines} bad)`)
        .join(', ')} malformed`,
    );
  });

  it('huge files: 100,000 sockets, and a 32 MB line without a newline, parse in bounded time', async () => {
    const t = tree();
    t.write('proc/net/tcp', tcpTable(100_000));
    t.write('proc/net/udp', 'x'.repeat(32 * 1024 * 1024));
    t.write('proc/net/unix', `Num RefCount Protocol Flags Type St Inode Path\n${'0000000000000000: 00000002 00000000 00010000 0001 01 1 /'.padEnd(1 << 20, 'a')}\n`);
    const { snap, ms } = await once(t);
    expect(snap.sockets.filter((x) => x.proto === 'tcp')).toHaveLength(100_000);
    expect(snap.sources.udp?.state).toBe('malformed');
    expect(snap.sources.udp?.sample?.length ?? 0).toBeLessThanOrEqual(200);
    figures.push(`huge: 100k-line tcp + 32 MB garbage udp + 1 MB unix path: --once in ${ms} ms, collectMs ${snap.collector.collectMs}`);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);
});

describe('owners: processes exiting mid-scan, fds we may not read', () => {
  function withPids(t: ProcTree): void {
    // 4242 holds tcp socket inode 100000; 4243 has exited (no fd dir); 4244 is another user's.
    mkdirSync(join(t.proc, '4242/fd'), { recursive: true });
    symlinkSync('socket:[100000]', join(t.proc, '4242/fd/3'));
    symlinkSync('/dev/null', join(t.proc, '4242/fd/0'));
    t.write('proc/4242/comm', 'sshd\n');
    t.write('proc/4242/cmdline', 'sshd\0-D\0');
    mkdirSync(join(t.proc, '4243'));
    mkdirSync(join(t.proc, '4244/fd'), { recursive: true });
    symlinkSync('socket:[100001]', join(t.proc, '4244/fd/5'));
    chmodSync(join(t.proc, '4244/fd'), 0o700);
  }

  it('as root: the owner is joined, the vanished process counted, ownership complete', async () => {
    const t = tree();
    withPids(t);
    const { snap } = await once(t);
    const owned = snap.sockets.find((s) => s.inode === 100000);
    expect(owned?.pid).toBe(4242);
    expect(owned?.program).toBe('sshd');
    expect(snap.ownership.pidsVanished).toBe(1);
    if (process.geteuid?.() === 0) expect(snap.ownership.status).toBe('complete');
  });

  it('as nobody: another user’s fds are unreadable → ownership partial, with netstat’s reason', async (ctx) => {
    const wrapper = asNobody();
    if (!wrapper) return ctx.skip();
    const t = tree();
    openUp(t);
    withPids(t);
    const { snap } = await once(t, { wrapper });
    expect(snap.ownership.status).toBe('partial');
    expect(snap.ownership.pidsDenied).toBe(1);
    expect(snap.ownership.reason).toMatch(/not all processes could be identified/);
    expect(snap.sockets.find((s) => s.inode === 100000)?.pid).toBe(4242);
    expect(snap.sockets.find((s) => s.inode === 100001)?.pid).toBeNull();
  });

  it('as nobody on the live /proc: ownership partial with the reason, never an exception', async (ctx) => {
    const wrapper = asNobody();
    if (!wrapper) return ctx.skip();
    const r = await runAgent(['--once'], { wrapper, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const snap = JSON.parse(r.stdout) as Snapshot;
    expect(snap.ownership.isRoot).toBe(false);
    expect(snap.ownership.status).toBe('partial');
    expect(snap.ownership.reason).toMatch(/not all processes could be identified.*run the agent as root/);
    figures.push(`live /proc as nobody: ownership ${snap.ownership.status}, ${snap.ownership.pidsDenied} pids denied of ${snap.ownership.pidsScanned}: "${snap.ownership.reason}"`);
  }, 90_000);
});

describe('a faulty tree over many ticks', () => {
  it('keeps serving and logs nothing per tick', async () => {
    const t = tree();
    t.remove('proc/net/tcp6');
    mkdirSync(join(t.proc, 'net/tcp6'));
    t.write('proc/net/udp', 'garbage\n');
    t.write('proc/net/tcp', `${tcpTable(5)}broken line\n`);
    const a = await startAgent([...t.args, '--port', '0', '--interval', '100']);
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const health = JSON.parse(
        await fetch(`http://127.0.0.1:${a.port}/api/health`).then((r) => r.text()),
      ) as { seq: number };
      expect(health.seq).toBeGreaterThan(10);
      expect(a.stderr()).toBe('');
      // Only the start-up lines: the banner (and an ownership note when not root).
      expect(a.stdout().trim().split('\n').length).toBeLessThanOrEqual(3);
      figures.push(`faulty tree: ${health.seq} ticks at 100 ms, ${a.stdout().trim().split('\n').length} stdout line(s), ${a.stderr().length} stderr bytes`);
    } finally {
      const { code } = await a.stop();
      expect(code).toBe(0);
    }
  });
});
