/**
 * Reliability of the running agent (issue 5): graceful shutdown on SIGTERM/SIGINT (clients told,
 * sockets closed, exit 0 promptly), and HTTP that stays responsive while a big tree is collected.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { HistoryResponse } from '@netscope/shared';
import { AGENT_MAIN, makeProcTree, requireBuiltAgent, rssKiB, startAgent, tcpTable, type ProcTree } from './helpers/agent.js';
import { waitFor, wsAttempt } from './helpers/ws.js';
import { RawWsClient } from './helpers/rawws.js';

const trees: ProcTree[] = [];
const figures: string[] = [];
afterAll(() => {
  trees.forEach((t) => t.cleanup());
  console.log(`lifecycle figures:\n  ${figures.join('\n  ')}`);
});

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: every /ws client gets bye(shutdown) and close 1001; exit 0 promptly', async (signal) => {
    const t = makeProcTree();
    trees.push(t);
    const a = await startAgent([...t.args, '--port', '0', '--interval', '200']);
    const clients = await Promise.all([wsAttempt(a.port, { origin: a.origin }), wsAttempt(a.port, {}), wsAttempt(a.port, {})]);
    for (const c of clients) {
      expect(c.status).toBe(101);
      await waitFor(() => c.messages.some((m) => m.type === 'snapshot'), 5000, 'snapshot');
    }
    // An idle keep-alive HTTP connection must not hold the exit up either.
    const keepAlive = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: a.port, path: '/api/health', agent: keepAlive }, (r) => {
        r.resume();
        r.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    const t0 = Date.now();
    const { code, signal: killedBy } = await a.stop(signal, 10_000);
    const ms = Date.now() - t0;
    keepAlive.destroy();
    const codes = await Promise.all(clients.map((c) => c.closed));
    figures.push(`${signal}: exit ${code} in ${ms} ms; client close codes ${codes.join(', ')}`);
    expect(killedBy).toBeNull();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2500); // well inside the 3 s forced exit
    for (const c of clients) {
      const bye = c.messages.find((m) => m.type === 'bye');
      expect(bye).toMatchObject({ type: 'bye', reason: 'shutdown' });
    }
    expect(codes).toEqual([1001, 1001, 1001]);
    expect(a.stderr()).toBe('');
  });
});

/** A process's descendants, children first (from /proc/<pid>/task/<pid>/children). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a SIGTERM the moment it says it serves', () => {
  // A service manager may stop the agent as soon as it starts. The handler used to be registered
  // just after the "serving" line: 14 of 20 such SIGTERMs killed it without its shutdown.
  it('is handled: "shutting down" and exit 0, ten starts in a row', async () => {
    requireBuiltAgent();
    const t = makeProcTree();
    trees.push(t);
    const dataDir = mkdtempSync(join(tmpdir(), 'netscope-data-'));
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const child = spawn(process.execPath, [AGENT_MAIN, ...t.args, '--port', '0', '--interval', '1000', '--data-dir', dataDir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let sent = false;
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (!sent && out.includes('serving')) {
            sent = true;
            child.kill('SIGTERM'); // at once, in the same turn the line arrives
          }
        });
        const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        outcomes.push(`${code}/${signal}/${out.includes('SIGTERM, shutting down') ? 'graceful' : 'killed'}`);
      }
      expect(outcomes).toEqual(Array(10).fill('0/null/graceful'));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('pnpm start', () => {
  it('SIGTERM to pnpm (a service manager stopping it) stops the agent too, gracefully', async () => {
    const t = makeProcTree();
    trees.push(t);
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const a = await startAgent([...t.args, '--port', '0', '--interval', '200'], { command: ['pnpm', 'start', '--'], cwd: root, timeoutMs: 60_000 });
    const below = descendants(a.pid);
    expect(below.length).toBeGreaterThan(0);
    try {
      const t0 = Date.now();
      const { code } = await a.stop('SIGTERM', 10_000);
      figures.push(`pnpm start, SIGTERM to pnpm: pnpm exit ${code} in ${Date.now() - t0} ms`);
      // The agent was left serving, re-parented to init, when pnpm's shell stood between them.
      await waitFor(() => below.every((p) => !alive(p)), 5000, 'the processes under pnpm to exit');
      expect(a.stdout()).toContain('netscope: SIGTERM, shutting down');
      await expect(fetch(`${a.origin}/api/health`)).rejects.toThrow();
    } finally {
      for (const p of below) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  }, 90_000);
});

describe('idle connections', () => {
  it('a quiet /ws (hour-long interval) outlives the 10 s HTTP inactivity timeout', async () => {
    const t = makeProcTree();
    trees.push(t);
    const a = await startAgent([...t.args, '--port', '0', '--interval', '3600000']);
    try {
      const c = await wsAttempt(a.port, { origin: a.origin });
      expect(c.status).toBe(101);
      await new Promise((r) => setTimeout(r, 12_000));
      expect(c.ws!.readyState).toBe(c.ws!.OPEN);
      c.ws!.close();
    } finally {
      await a.stop();
    }
  }, 30_000);
});

describe('shutdown with clients that cannot be told, and the history store', () => {
  it('a client that never reads does not hold the exit up', async () => {
    const t = makeProcTree({ tcpCount: 5000 });
    trees.push(t);
    const a = await startAgent([...t.args, '--port', '0', '--interval', '200', '--no-owners']);
    const stuck = await RawWsClient.connect(a.port, { localAddress: '127.0.0.60' });
    stuck.pause();
    await new Promise((r) => setTimeout(r, 1500)); // its buffers fill
    const t0 = Date.now();
    const { code, signal } = await a.stop('SIGTERM', 10_000);
    const ms = Date.now() - t0;
    stuck.destroy();
    figures.push(`SIGTERM with a client that never reads: exit ${code} in ${ms} ms`);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(4000); // the 3 s forced exit at worst
  });

  it('history written before SIGTERM is there for the next start (store flushed)', async () => {
    const t = makeProcTree();
    trees.push(t);
    const dataDir = join(t.dir, 'data');
    mkdirSync(dataDir);
    const first = await startAgent([...t.args, '--port', '0', '--interval', '200'], { env: { NETSCOPE_DATA_DIR: dataDir } });
    await new Promise((r) => setTimeout(r, 2500));
    const stoppedAt = Date.now();
    expect((await first.stop('SIGTERM')).code).toBe(0);
    const second = await startAgent([...t.args, '--port', '0', '--interval', '5000'], { env: { NETSCOPE_DATA_DIR: dataDir } });
    try {
      const r = await fetch(`http://127.0.0.1:${second.port}/api/history?range=300`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as HistoryResponse;
      const before = body.points.filter((p) => p.t <= stoppedAt);
      figures.push(`history across restart: ${before.length} points from before SIGTERM`);
      expect(before.length).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });
});

/**
 * Bounds on an idle machine (scaled by the load below). The collection of 100k changing sockets
 * still has synchronous stretches of a few hundred ms (the inet table cache, alert measures):
 * the figures printed are the real measure.
 */
const THRESHOLD_20K_P99_MS = 250;
const THRESHOLD_100K_P99_MS = 1000;

describe('the event loop while collecting', () => {
  // Every socket's queues change every tick (the worst case for the collector and the delta), and a
  // dashboard is connected (so every tick is also diffed and serialised).
  it.each([
    [20_000, THRESHOLD_20K_P99_MS, 20],
    [100_000, THRESHOLD_100K_P99_MS, 20],
  ])('/api/health answers while %i changing sockets are collected every tick (p99 < %i ms)', async (count, p99Max, p50Max) => {
    const t = makeProcTree({ tcpCount: count });
    trees.push(t);
    const versions = [1, 2].map((salt) => tcpTable(count, salt));
    let n = 0;
    const churn = setInterval(() => {
      const tmp = join(t.proc, 'net', '.tcp.next');
      writeFileSync(tmp, versions[n++ % 2]!);
      renameSync(tmp, join(t.proc, 'net', 'tcp'));
    }, 300);
    const a = await startAgent([...t.args, '--port', '0', '--interval', '500', '--no-owners'], { timeoutMs: 60_000 });
    const dashboard = await wsAttempt(a.port, { origin: a.origin });
    try {
      expect(dashboard.status).toBe(101);
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (): Promise<{ ms: number; body: string }> =>
        new Promise((resolve, reject) => {
          const t0 = performance.now();
          request({ host: '127.0.0.1', port: a.port, path: '/api/health', agent: keepAlive }, (r) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (d: string) => (body += d));
            r.on('end', () => resolve({ ms: performance.now() - t0, body }));
          })
            .on('error', reject)
            .end();
        });
      const first = JSON.parse((await get()).body) as { seq: number };
      const latencies: number[] = [];
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        latencies.push((await get()).ms);
        await new Promise((r) => setTimeout(r, 5));
      }
      const last = JSON.parse((await get()).body) as { seq: number; collectMs: number; effectiveIntervalMs: number; memory: { rssBytes: number; heapUsedBytes: number } };
      // The footprint health reports is the one the kernel sees for the process.
      const kernelRss = rssKiB(a.pid) * 1024;
      keepAlive.destroy();
      latencies.sort((x, y) => x - y);
      const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
      figures.push(
        `health under load (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs; ${count} changing sockets + a dashboard, ${last.seq - first.seq} ticks in 10 s, collectMs ${last.collectMs}, effective interval ${last.effectiveIntervalMs} ms): ` +
          `${latencies.length} requests, p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`,
      );
      expect(last.seq - first.seq).toBeGreaterThanOrEqual(1); // it really was collecting meanwhile
      expect(Math.abs(last.memory.rssBytes - kernelRss)).toBeLessThan(0.25 * kernelRss);
      expect(last.memory.heapUsedBytes).toBeGreaterThan(0);
      expect(last.memory.heapUsedBytes).toBeLessThan(last.memory.rssBytes);
      // Competing for 2 CPUs with the other test files (and whatever else runs) slows the agent as
      // much as a blocked event loop would: the bounds scale with the run queue per CPU.
      const contention = Math.max(1, loadavg()[0]! / cpus().length);
      expect(pct(50)).toBeLessThan(p50Max * contention);
      expect(pct(99)).toBeLessThan(p99Max * contention);
    } finally {
      dashboard.ws?.terminate();
      clearInterval(churn);
      await a.stop();
    }
  }, 90_000);
});
