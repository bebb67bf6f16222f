#!/usr/bin/env node
// The running agent's footprint, for finding where it goes (bench/run.mjs only reports the total):
//   node bench/footprint.mjs [--pairs 1000] [--window 60] [--node-flags='--cpu-prof --cpu-prof-dir=/tmp/p'] [--no-client] [--ws-query view=summary] [--strace]
//     [--agent path/to/main.js] [--compare path/to/other/main.js [--compare-node-flags='--single-threaded']]
// Opens `pairs` loopback pairs (bench/gen.mjs), starts the built agent as bench/run.mjs does
// (`--interval 1000`, one /ws client), waits for it to settle, then over `window` seconds reports
// CPU % of one core and RSS from /proc/<pid>/stat and status, the RSS breakdown
// (/proc/<pid>/smaps_rollup) and, with --strace, the syscall counts (`strace -c -f -p`). Extra node
// flags go before the agent's script (e.g. --cpu-prof, --trace-gc). With --compare a second agent
// runs beside the first over the same sockets and window (an A/B with the machine's noise on both).
// Loopback only; every process it starts is ended by its own pid.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { benchFlags, intFlag, usageError } from './args.mjs';
import { generate, killAllWorkersSync, stopWorker } from './gen.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { WebSocket } = createRequire(join(root, 'apps/agent/package.json'))('ws');

const USAGE =
  "node bench/footprint.mjs [--pairs 1000] [--window 60] [--settle 10] [--node-flags='--cpu-prof …'] [--no-client] [--ws-query view=summary] [--strace] [--agent-args '…'] [--agent-log FILE] [--agent path/to/main.js] [--compare path/to/main.js [--compare-node-flags='…']]";
const flags = benchFlags('footprint', USAGE, {
  pairs: { type: 'string', default: '1000' },
  window: { type: 'string', default: '60' },
  settle: { type: 'string', default: '10' },
  'node-flags': { type: 'string', default: '' },
  'no-client': { type: 'boolean', default: false },
  /** The /ws client's query, e.g. `view=summary` (what every page of the dashboard asks for). */
  'ws-query': { type: 'string', default: '' },
  strace: { type: 'boolean', default: false },
  'agent-args': { type: 'string', default: '' },
  /** The agent's stdout (e.g. --trace-gc lines) goes to this file. */
  'agent-log': { type: 'string', default: '' },
  /** Another build of the agent (e.g. a worktree's, for an A/B of two commits). */
  agent: { type: 'string', default: join(root, 'apps/agent/dist/main.js') },
  /** A second agent (a build's main.js) run at the same time, measured over the same window. */
  compare: { type: 'string' },
  /** Node flags of the second agent (e.g. --single-threaded, with --compare the same main.js). */
  'compare-node-flags': { type: 'string', default: '' },
});
const PAIRS = intFlag('footprint', USAGE, 'pairs', flags.pairs, 1, 200_000);
const WINDOW_S = intFlag('footprint', USAGE, 'window', flags.window, 1);
const SETTLE_S = intFlag('footprint', USAGE, 'settle', flags.settle, 0);
if (flags['compare-node-flags'] && !flags.compare) usageError('footprint', USAGE, '--compare-node-flags needs --compare (the second agent it is for)');
for (const name of ['agent', 'compare']) {
  if (flags[name] !== undefined && !existsSync(flags[name])) usageError('footprint', USAGE, `--${name} ${flags[name]}: no such file (build it first)`);
}
const tmp = join(os.tmpdir(), `netscope-footprint-${process.pid}`);
mkdirSync(tmp, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`footprint: ${a.join(' ')}\n`);

const children = new Set();
function cleanupSync() {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  killAllWorkersSync();
  rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanupSync();
  process.exit(130);
});

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { utime: Number(f[11]) / CLK_TCK, stime: Number(f[12]) / CLK_TCK, rssMB: kb('VmRSS') / 1024, threads: kb('Threads'), at: performance.now() };
}

/** CPU seconds of each thread (tid → name, utime+stime). */
function threadTimes(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      /* thread ended */
    }
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/health', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Start one agent build with its own port, data directory and /ws client. */
async function startAgent(spec, i) {
  const port = await freePort();
  const nodeFlags = spec.nodeFlags.split(/\s+/).filter(Boolean);
  const agentArgs = flags['agent-args'].split(/\s+/).filter(Boolean);
  const log_ = i === 0 && flags['agent-log'] ? openSync(flags['agent-log'], 'w') : 'ignore';
  const child = spawn(process.execPath, [...nodeFlags, spec.script, '--port', String(port), '--interval', '1000', '--quiet', '--data-dir', join(tmp, `data-${i}`), ...agentArgs], {
    stdio: ['ignore', log_, 'inherit'],
    cwd: root,
  });
  children.add(child);
  const agent = { ...spec, child, port, ws: null };
  for (let t = 0; t < 900 && !(await healthy(port)); t++) {
    if (child.exitCode !== null) throw new Error(`agent ${spec.script} exited with ${child.exitCode}`);
    await sleep(200);
  }
  if (!flags['no-client']) {
    let messages = 0;
    agent.ws = new WebSocket(`ws://127.0.0.1:${port}/ws${flags['ws-query'] ? `?${flags['ws-query']}` : ''}`, { perMessageDeflate: true });
    agent.ws.on('message', () => messages++);
    agent.ws.on('close', () => log(`${spec.label}: ws closed after ${messages} messages`));
  }
  return agent;
}

async function main() {
  const gen = await generate(PAIRS, 40);
  const agents = [];
  try {
    // With --compare both builds run at once over the same sockets and the same window: the
    // machine's noise (other jobs, kernel threads) falls on both, which alternating runs cannot give.
    const specs = [{ label: 'agent', script: flags.agent, nodeFlags: flags['node-flags'] }];
    if (flags.compare) specs.push({ label: 'compare', script: flags.compare, nodeFlags: flags['compare-node-flags'] });
    for (const [i, spec] of specs.entries()) agents.push(await startAgent(spec, i));
    log(`${agents.map((x) => `${x.label} pid ${x.child.pid} (${[x.nodeFlags, x.script].filter(Boolean).join(' ')})`).join('; ')}; ${gen.pairs} pairs; settling ${SETTLE_S} s`);
    await sleep(SETTLE_S * 1000);
    let strace = null;
    if (flags.strace) {
      strace = spawn('strace', ['-c', '-f', '-p', String(agents[0].child.pid), '-o', join(tmp, 'strace.txt')], { stdio: 'ignore' });
      children.add(strace);
      await sleep(500);
    }
    const before = agents.map((x) => ({ stat: procStat(x.child.pid), threads: threadTimes(x.child.pid) }));
    await sleep(WINDOW_S * 1000);
    for (const [i, x] of agents.entries()) {
      const a = before[i].stat;
      const ta = before[i].threads;
      const b = procStat(x.child.pid);
      const tb = threadTimes(x.child.pid);
      const sec = (b.at - a.at) / 1000;
      const pct = (v) => ((100 * v) / sec).toFixed(2);
      const who = agents.length > 1 ? `${x.label} (${[x.nodeFlags, x.script].filter(Boolean).join(' ')}): ` : '';
      console.log(`${who}window ${sec.toFixed(1)} s: CPU ${pct(b.utime - a.utime + b.stime - a.stime)}% of one core (user ${pct(b.utime - a.utime)}%, sys ${pct(b.stime - a.stime)}%); RSS ${b.rssMB.toFixed(1)} MB; threads ${b.threads}`);
      const byName = new Map();
      for (const [tid, t] of tb) {
        const was = ta.get(tid) ?? { cpu: 0 };
        const key = tid === String(x.child.pid) ? `${t.name} (main)` : `${t.name}/${tid}`;
        byName.set(key, (byName.get(key) ?? 0) + t.cpu - was.cpu);
      }
      console.log(`threads: ${[...byName].sort((p, q) => q[1] - p[1]).map(([n, c]) => `${n} ${pct(c)}%`).join(', ')}`);
      console.log(readFileSync(`/proc/${x.child.pid}/smaps_rollup`, 'utf8').split('\n').filter((l) => /^(Rss|Pss_Anon|Pss_File|Anonymous|Private_Dirty|Shared_Clean)/.test(l)).join('\n'));
    }
    if (strace) {
      process.kill(strace.pid, 'SIGINT');
      await new Promise((r) => strace.once('exit', r));
      console.log(readFileSync(join(tmp, 'strace.txt'), 'utf8'));
    }
  } finally {
    for (const x of agents) {
      x.ws?.close();
      // SIGTERM lets --cpu-prof write its profile
      await stopWorker(x.child);
    }
    await gen.stop();
    cleanupSync();
  }
}

await main();
