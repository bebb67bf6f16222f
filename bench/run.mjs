#!/usr/bin/env node
// `pnpm bench [-- --scales 500,1000,10000,50000,100000 | --quick] [--runs N] [--out FILE] [--stream-query aggregates=patch]`
//
// For each scale: open real loopback sockets (bench/gen.mjs), then in the same run time
//   - one-shot commands with hyperfine (medians): the agent's `--once` (bare and via `pnpm start`),
//     the floors (`cat /proc/net/tcp{,6}`, the /proc/<pid>/fd walk with find), ss/netstat with and without -p;
//   - the running agent: steady-state tick cost (collector.collectMs), /api/health latency while it
//     collects (event-loop lag), RSS, stream sizes (first snapshot, deltas idle and at 1% churn/s);
//   - at 500 and 1k pairs: CPU and RSS over 60 s windows from /proc/<pid>/stat, one before the churn phase (nothing
//     moving) and one after it (its TIME_WAITs expiring); the target is judged on the higher.
// Writes BENCHMARKS.md and bench/results/latest.json. Loopback only; every process it starts is
// ended by its own pid, also on failure and on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, intFlag, intListFlag } from './args.mjs';
import { trackFrames } from './ws-frames.mjs';
import { generate, killAllWorkersSync, stopWorker } from './gen.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const AGENT = join(root, 'apps/agent/dist/main.js');
const require = createRequire(join(root, 'apps/agent/package.json'));
const { WebSocket } = require('ws');

const USAGE =
  'pnpm bench [-- --scales 500,1000,10000,50000,100000 | --quick] [--runs N≥3] [--out FILE] [--cpu-window S] [--steady-ticks N≥3] [--phase-timeout S] [--no-build] [--skip-oneshot] [--stream-query Q]';
/** The flags as given (BENCHMARKS.md shows the command that made it). */
const argv = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const flags = benchFlags('bench', USAGE, {
  scales: { type: 'string', default: '500,1000,10000,50000,100000' },
  quick: { type: 'boolean', default: false },
  runs: { type: 'string', default: '10' },
  out: { type: 'string', default: join(root, 'BENCHMARKS.md') },
  'cpu-window': { type: 'string', default: '60' },
  'steady-ticks': { type: 'string', default: '10' },
  'no-build': { type: 'boolean', default: false },
  'phase-timeout': { type: 'string', default: '180' },
  'skip-oneshot': { type: 'boolean', default: false },
  'stream-query': { type: 'string', default: '' },
});
// up to 200k pairs (~400k sockets), the range the bench has always taken
const scales = intListFlag('bench', USAGE, 'scales', flags.quick ? '500,1000,10000' : flags.scales, 1, 200_000);
const RUNS = intFlag('bench', USAGE, 'runs', flags.runs, 3);
const CPU_WINDOW_S = intFlag('bench', USAGE, 'cpu-window', flags['cpu-window'], 1);
const STEADY_TICKS = intFlag('bench', USAGE, 'steady-ticks', flags['steady-ticks'], 3);
/** A measuring phase stops after this long even if fewer ticks came (a stretched interval at scale). */
const PHASE_TIMEOUT_MS = intFlag('bench', USAGE, 'phase-timeout', flags['phase-timeout'], 1) * 1000;
const tmp = join(os.tmpdir(), `netscope-bench-${process.pid}`);
mkdirSync(tmp, { recursive: true });

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
  process.stderr.write('\nbench: interrupted, cleaning up\n');
  cleanupSync();
  process.exit(130);
});
process.on('SIGTERM', () => {
  cleanupSync();
  process.exit(143);
});

const log = (...a) => process.stderr.write(`bench: ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

const HAVE_HYPERFINE = spawnSync('hyperfine', ['--version']).status === 0;

/** Median wall time of `cmd` (a shell-words string, run without a shell) in seconds. */
function timeCommand(cmd, runs, warmup, ignoreFailure = false) {
  if (HAVE_HYPERFINE) {
    const out = join(tmp, 'hf.json');
    const r = spawnSync('hyperfine', ['-N', ...(ignoreFailure ? ['-i'] : []), '--style', 'basic', '--warmup', String(warmup), '--runs', String(runs), '--export-json', out, '--', cmd], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: root,
      timeout: 30 * 60_000,
    });
    if (r.status !== 0) return { cmd, error: `hyperfine exit ${r.status}: ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}` };
    const res = JSON.parse(readFileSync(out, 'utf8')).results[0];
    return { cmd, median: res.median, mean: res.mean, min: res.min, max: res.max, cpu: res.user + res.system, runs: res.times.length, tool: 'hyperfine' };
  }
  const argv = cmd.match(/'[^']*'|\S+/g).map((t) => t.replace(/^'(.*)'$/, '$1'));
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', cwd: root, timeout: 30 * 60_000 });
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0 && !ignoreFailure) return { cmd, error: `exit ${r.status}` };
    if (i >= warmup) times.push(dt);
  }
  return { cmd, median: median(times), min: Math.min(...times), max: Math.max(...times), runs: times.length, tool: 'own timer (no hyperfine)' };
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

function getJson(port, path, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, json: JSON.parse(body), ms: performance.now() - t0 });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  // fields after ")": state(0) ... utime(11) stime(12)
  return { cpuSec: (Number(f[11]) + Number(f[12])) / CLK_TCK, rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, at: performance.now() };
}

async function startAgent(extraArgs = []) {
  const port = await freePort();
  const dataDir = join(tmp, `data-${port}`);
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [AGENT, '--port', String(port), '--interval', '1000', '--quiet', '--data-dir', dataDir, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: root,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    try {
      const r = await getJson(port, '/api/health', 2000);
      if (r.status === 200) return { child, port };
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error('agent did not answer /api/health in 180 s');
}

/**
 * A /ws client recording every message's size: as JSON text (`bytes`) and on the wire (`wire`:
 * socket bytes read since the previous message, frame headers included, compressed when the agent
 * accepts permessage-deflate as Chromium offers it). `--stream-query` picks the form (e.g.
 * `aggregates=patch`, `view=summary`).
 */
function streamClient(port) {
  const query = flags['stream-query'] ? `?${flags['stream-query']}` : '';
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { perMessageDeflate: true });
  const rec = { snapshots: [], deltas: [], ws, extensions: null };
  // Each message's size on the wire, from its frames on the socket. (Counting the socket's bytes
  // read between two message events gave 0 to a message whose bytes came in one read with the one
  // before it: the first snapshot at 1k, read with the hello, once showed as 0 KiB.)
  const wireSizes = [];
  ws.on('upgrade', (res) => trackFrames(res.socket, wireSizes));
  ws.on('open', () => (rec.extensions = ws.extensions || 'none'));
  ws.on('message', (data) => {
    const text = data.toString();
    const bytes = Buffer.byteLength(text);
    const wire = wireSizes.shift() ?? null;
    const msg = JSON.parse(text);
    if (msg.type === 'snapshot') rec.snapshots.push({ bytes, wire, sockets: msg.snapshot.sockets.length, seq: msg.seq });
    else if (msg.type === 'delta') {
      const s = msg.sockets;
      const size = (v) => Buffer.byteLength(JSON.stringify(v));
      const aggBytes = Object.fromEntries(Object.entries(msg.aggregates ?? {}).map(([k, v]) => [k, size(v)]));
      const p = msg.aggregatesPatch ?? {};
      for (const [k, v] of [...Object.entries(p.set ?? {}), ...Object.entries(p.patch ?? {})]) aggBytes[k] = size(v);
      rec.deltas.push({
        bytes,
        wire,
        seq: msg.seq,
        at: Date.now(),
        added: s.added.length,
        changed: s.changed.length,
        removed: s.removed.length,
        socketBytes: size(s),
        aggregates: aggBytes,
        processesBytes: msg.processes ? size(msg.processes) : 0,
        statsBytes: msg.stats ? size(msg.stats) : 0,
      });
    }
  });
  return rec;
}

/** Poll /api/health back to back (every 20 ms) for `ticks` new ticks; returns latencies and tick costs. */
async function observeTicks(port, ticks) {
  const lat = [];
  const seen = new Map();
  let first = null;
  const deadline = Date.now() + Math.min(ticks * 60_000, PHASE_TIMEOUT_MS);
  while (Date.now() < deadline) {
    let r;
    try {
      r = await getJson(port, '/api/health', 10_000);
    } catch {
      lat.push(10_000);
      continue;
    }
    lat.push(r.ms);
    const h = r.json;
    first ??= h.seq;
    if (h.seq !== first && !seen.has(h.seq)) seen.set(h.seq, { collectMs: h.collectMs, effectiveIntervalMs: h.effectiveIntervalMs });
    if (seen.size >= ticks) break;
    await sleep(20);
  }
  const costs = [...seen.values()].map((x) => x.collectMs);
  return {
    ticks: seen.size,
    tickMs: { median: median(costs), p90: pct(costs, 90), max: Math.max(...costs) },
    effectiveIntervalMs: median([...seen.values()].map((x) => x.effectiveIntervalMs)),
    healthMs: { median: median(lat), p99: pct(lat, 99), max: Math.max(...lat), n: lat.length },
  };
}

/** CPU % of one core over CPU_WINDOW_S from /proc/<pid>/stat (utime+stime), after 1.5 s without polling. */
async function cpuWindow(pid, what) {
  log(`  CPU window ${CPU_WINDOW_S} s at 1 Hz, ${what} (one /ws client, no polling)…`);
  await sleep(1500);
  const a = procStat(pid);
  const before = sockstat();
  await sleep(CPU_WINDOW_S * 1000);
  const b = procStat(pid);
  const after = sockstat();
  const count = (c) => c.tcpInuse + c.tcpTw + c.udp;
  const cpu = {
    windowSec: (b.at - a.at) / 1000,
    cpuPercentOfOneCore: (100 * (b.cpuSec - a.cpuSec)) / ((b.at - a.at) / 1000),
    rssMB: b.rssMB,
    hwmMB: b.hwmMB,
    /** TCP (TIME_WAIT included) and UDP sockets at the window's start and end. */
    sockets: [count(before), count(after)],
  };
  log(`    ${cpu.cpuPercentOfOneCore.toFixed(2)}% of one core, RSS ${cpu.rssMB.toFixed(0)} MB, ${cpu.sockets.join(' → ')} sockets`);
  return cpu;
}

/** Linux keeps a TIME_WAIT socket 60 s (TCP_TIMEWAIT_LEN), whatever tcp_fin_timeout says. */
const TIME_WAIT_MS = 60_000;

async function measureAgent(scale, gen) {
  // The idle window is to be idle: the setup's TIME_WAITs (and the last scale's) expire first,
  // else their expiry is socket changes in every tick of it (a median of 253 a tick at 50k pairs).
  const wait = (gen.readyAt ?? 0) + TIME_WAIT_MS + 2000 - Date.now();
  if (wait > 0) {
    log(`  waiting ${(wait / 1000).toFixed(0)} s for the setup's TIME_WAIT sockets to expire…`);
    await sleep(wait);
  }
  const { child, port } = await startAgent();
  try {
    const stream = streamClient(port);
    // settle: two ticks after the first
    await observeTicks(port, 2);
    const cpuA = procStat(child.pid);
    const steady = await observeTicks(port, STEADY_TICKS);
    const mem = procStat(child.pid);
    // CPU of the whole agent (ticks, /ws deltas, the health polling) per tick over the steady window
    steady.cpuMsPerTick = ((mem.cpuSec - cpuA.cpuSec) * 1000) / Math.max(1, steady.ticks);
    const idleDeltas = stream.deltas.slice(-STEADY_TICKS);
    // CPU with the scale's pairs and nothing else moving (the setup's TIME_WAITs expired above):
    // the target's own condition. A second window after the churn phase follows below.
    const cpuIdle = scale <= 1000 && CPU_WINDOW_S > 0 ? await cpuWindow(child.pid, 'idle: no churn yet') : null;

    // 1% churn per second
    const churnPerSec = Math.max(1, Math.round(scale * 0.01));
    const stopChurn = gen.churn(churnPerSec);
    const before = stream.deltas.length;
    let churn;
    let churnEnd = 0;
    try {
      await observeTicks(port, 2); // let churn reach steady state
      churn = await observeTicks(port, STEADY_TICKS);
      churnEnd = stream.deltas.length;
      // `ss -tan` under the same churn (and beside the running agent, as its ticks were): the
      // generator's workers keep both cores busy, so a quiet `ss` is no yardstick for these ticks.
      log(`  timing ss -tan under churn (3 runs)…`);
      churn.ssTan = timeCommand('ss -tan', 3, 0);
    } finally {
      stopChurn();
    }
    const churnDeltas = stream.deltas.slice(before + 2, churnEnd);
    const mem2 = procStat(child.pid);
    // Under churn the closed pairs' TIME_WAIT sockets pile up (~56k at 100k pairs): more sockets
    // than the scale names, so the peak of the churn phase is reported with its socket count.
    const churnSockstat = sockstat();

    // After churn: the churn's TIME_WAITs (one per closed pair) expire within this window.
    const cpu = scale <= 1000 && CPU_WINDOW_S > 0 ? await cpuWindow(child.pid, 'after churn: its TIME_WAITs expire') : null;
    stream.ws.close();

    const snap = stream.snapshots[0];
    const sumChanged = (d) => d.added + d.changed + d.removed;
    const idleBytes = median(idleDeltas.map((d) => d.bytes));
    const churnBytes = median(churnDeltas.map((d) => d.bytes));
    const churnChanged = median(churnDeltas.map(sumChanged));
    const idleWire = median(idleDeltas.map((d) => d.wire));
    // "Idle" ticks may still carry a few socket changes (other processes' sockets): counted.
    const idleChanged = median(idleDeltas.map(sumChanged));
    const churnWire = median(churnDeltas.map((d) => d.wire));
    const idleAggregates = {};
    for (const d of idleDeltas) for (const [k, v] of Object.entries(d.aggregates)) (idleAggregates[k] ??= []).push(v);
    return {
      steady,
      churn: { perSecond: churnPerSec, ...churn },
      rssMB: Math.max(mem.rssMB, mem2.rssMB),
      /** VmRSS after the steady ticks, and after the churn phase. */
      quietRssMB: mem.rssMB,
      churnRssMB: mem2.rssMB,
      /** VmHWM before churn: start, first snapshot to the /ws client, steady ticks. */
      quietHwmMB: mem.hwmMB,
      hwmMB: mem2.hwmMB,
      churnSockets: churnSockstat.tcpInuse + churnSockstat.tcpTw + churnSockstat.udp,
      cpu,
      cpuIdle,
      stream: {
        firstSnapshotBytes: snap?.bytes ?? null,
        firstSnapshotSockets: snap?.sockets ?? null,
        bytesPerSocket: snap ? snap.bytes / snap.sockets : null,
        idleDeltaBytes: idleBytes,
        idleAggregateBytes: Object.fromEntries(Object.entries(idleAggregates).map(([k, v]) => [k, median(v)])),
        idleAggregateSentInTicks: Object.fromEntries(Object.entries(idleAggregates).map(([k, v]) => [k, `${v.length}/${idleDeltas.length}`])),
        churnDeltaBytes: churnBytes,
        churnChangedSockets: churnChanged,
        bytesPerChangedSocket: churnChanged ? (churnBytes - idleBytes) / churnChanged : null,
        churnSocketBytesPerChanged: median(churnDeltas.filter((d) => sumChanged(d) > 0).map((d) => d.socketBytes / sumChanged(d))),
        // On the wire (compressed when negotiated): what a browser downloads.
        path: `/ws${flags['stream-query'] ? `?${flags['stream-query']}` : ''}`,
        extensions: stream.extensions,
        firstSnapshotWireBytes: snap?.wire ?? null,
        idleDeltaWireBytes: idleWire,
        /** Changed sockets in an idle tick (median). */
        idleChangedSockets: idleChanged,
        churnDeltaWireBytes: churnWire,
        wireBytesPerChangedSocket: churnChanged ? (churnWire - idleWire) / churnChanged : null,
      },
    };
  } finally {
    await stopWorker(child);
  }
}

function envInfo() {
  const sh = (c, a) => spawnSync(c, a).stdout?.toString().trim() ?? '';
  return {
    date: new Date().toISOString(),
    kernel: sh('uname', ['-r']),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    hyperfine: HAVE_HYPERFINE ? sh('hyperfine', ['--version']) : 'not installed (own median timer)',
    ss: sh('ss', ['-V']),
    netstat: sh('netstat', ['--version']).split('\n')[0] ?? '',
    fdLimit: sh('sh', ['-c', 'ulimit -Hn']),
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    portRange: readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-'),
    commit: sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']),
    dirty: sh('git', ['-C', root, 'status', '--porcelain', '--', 'apps/agent/src', 'packages/shared/src']) !== '',
  };
}

function sockstat() {
  const t = readFileSync('/proc/net/sockstat', 'utf8');
  const n = (re) => Number(re.exec(t)?.[1] ?? 0);
  return { tcpInuse: n(/TCP: inuse (\d+)/), tcpTw: n(/tw (\d+)/), udp: n(/UDP: inuse (\d+)/) };
}

async function benchScale(scale, index) {
  log(`scale ${scale} pairs: generating…`);
  const t0 = Date.now();
  const gen = await generate(scale, 10 + index);
  const counts = sockstat();
  const tcpLines = readFileSync('/proc/net/tcp', 'utf8').split('\n').length - 2 + readFileSync('/proc/net/tcp6', 'utf8').split('\n').length - 2;
  log(`  ${gen.pairs} pairs in ${((Date.now() - t0) / 1000).toFixed(1)} s; TCP inuse ${counts.tcpInuse}, tw ${counts.tcpTw}, UDP ${counts.udp}; ${tcpLines} lines in /proc/net/tcp{,6}`);
  try {
    const slow = scale >= 50_000;
    const cmds = [
      { key: 'agentOnce', label: 'agent one-shot, bare (`node apps/agent/dist/main.js --once`)', cmd: `${process.execPath} ${AGENT} --once`, runs: slow ? 5 : RUNS, warmup: 1 },
      { key: 'pnpmOnce', label: 'agent one-shot via `pnpm start -- --once`', cmd: 'pnpm start -- --once', runs: slow ? 5 : RUNS, warmup: 1 },
      { key: 'startOnce', label: 'agent one-shot via `node scripts/start.mjs --once` (what pnpm start runs, without pnpm)', cmd: `${process.execPath} scripts/start.mjs --once`, runs: slow ? 5 : RUNS, warmup: 1 },
      { key: 'cat', label: 'floor: `cat /proc/net/tcp /proc/net/tcp6`', cmd: 'cat /proc/net/tcp /proc/net/tcp6', runs: RUNS, warmup: 1 },
      { key: 'fdwalk', label: 'floor: fd walk (`find … -lname socket:*`)', cmd: "find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/fd/*' -lname 'socket:*'", runs: RUNS, warmup: 1, ignoreFailure: true },
      { key: 'ssTan', label: '`ss -tan`', cmd: 'ss -tan', runs: RUNS, warmup: 1 },
      { key: 'netstatTan', label: '`netstat -tan`', cmd: 'netstat -tan', runs: RUNS, warmup: 1 },
      { key: 'ssTanp', label: '`ss -tanp`', cmd: 'ss -tanp', runs: slow ? 3 : RUNS, warmup: slow ? 0 : 1 },
      { key: 'netstatTanp', label: '`netstat -tanp`', cmd: 'netstat -tanp', runs: slow ? 3 : RUNS, warmup: slow ? 0 : 1 },
    ];
    const oneShot = {};
    for (const c of flags['skip-oneshot'] ? [] : cmds) {
      log(`  timing ${c.cmd} (${c.runs} runs)…`);
      oneShot[c.key] = { label: c.label, ...timeCommand(c.cmd, c.runs, c.warmup, c.ignoreFailure) };
      const r = oneShot[c.key];
      log(`    ${r.error ?? `${(r.median * 1000).toFixed(0)} ms median`}`);
    }
    log('  running agent: steady ticks, /api/health latency, stream sizes…');
    const agent = await measureAgent(scale, gen);
    log(`    tick median ${agent.steady.tickMs.median} ms; health p99 ${agent.steady.healthMs.p99?.toFixed(1)} ms; RSS ${agent.rssMB.toFixed(0)} MB`);
    return { scale, pairs: gen.pairs, extras: gen.extras, workers: gen.pids.length, sockstat: counts, tcpLines, oneShot, agent };
  } finally {
    await gen.stop();
  }
}

const f = (s) => (s === null || s === undefined || Number.isNaN(s) ? 'n/a' : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(0)} ms`);
const ratio = (a, b) => (a == null || b == null || !b ? 'n/a' : `${(a / b).toFixed(2)}×`);
const ok = (b) => (typeof b === 'string' ? b : b === null ? '—' : b ? '**met**' : '**not met**');

function markdown(env, results) {
  const L = [];
  L.push('# netscope benchmarks', '');
  L.push(`Run: ${env.date} · \`pnpm bench -- ${argv.join(' ')}\`  `);
  L.push(`Machine: Linux ${env.kernel}, ${env.nproc} cores (${env.cpu}), ${env.memGiB} GiB, node ${env.node}, ${env.hyperfine}, ${env.ss}, ${env.netstat}  `);
  L.push(`fd hard limit ${env.fdLimit}, ephemeral ports ${env.portRange}; agent at commit ${env.commit}${env.dirty ? ' + uncommitted changes' : ''}; load average at start: ${env.loadavg} (the machine is shared: wall times carry the noise of other jobs; CPU times much less).`, '');
  L.push(
    'Sockets: real loopback TCP pairs from `bench/gen.mjs` (worker processes of ≤ 8000 pairs, 4 listener ports each, one 127.x source address each, source ports handed out in turn from 10000-65535 by the worker), plus ~1% TIME_WAIT, 0.5% CLOSE_WAIT/FIN_WAIT2, 0.5% UDP, and the listeners. ' +
      'One-shot figures are hyperfine medians (`hyperfine -N --warmup 1 --runs N -- CMD`, output to /dev/null). ' +
      '"Floor" = median(`cat /proc/net/tcp /proc/net/tcp6`) + median(fd walk `find /proc -mindepth 3 -maxdepth 3 -path \'/proc/[0-9]*/fd/*\' -lname \'socket:*\'`). ' +
      'Steady tick = `collector.collectMs` of ticks of the running agent (`node apps/agent/dist/main.js --interval 1000`, one /ws client connected), read from `/api/health` polled every 20 ms; the same polling gives the HTTP latency while collecting (event-loop lag). ' +
        'The running agent is started once the setup\'s TIME_WAITs have expired (60 s after the generator was ready), so its idle ticks are idle.',
    '',
  );
  for (const r of results) {
    if (r.error) {
      L.push(`## ${r.scale} pairs`, '', `Failed: ${r.error}`, '');
      continue;
    }
    const o = r.oneShot;
    const ss = o.ssTan?.median;
    const floor = o.cat?.median != null && o.fdwalk?.median != null ? o.cat.median + o.fdwalk.median : null;
    L.push(`## ${r.pairs.toLocaleString('en')} pairs (${r.tcpLines.toLocaleString('en')} lines in /proc/net/tcp{,6}; TCP inuse ${r.sockstat.tcpInuse}, tw ${r.sockstat.tcpTw}, UDP ${r.sockstat.udp})`, '');
    const ssCpu = o.ssTan?.cpu;
    const floorCpu = o.cat?.cpu != null && o.fdwalk?.cpu != null ? o.cat.cpu + o.fdwalk.cpu : null;
    L.push('| what | command | median wall | runs | × `ss -tan` | × floor | CPU (user+sys, mean) | CPU × `ss -tan` |', '|---|---|---:|---:|---:|---:|---:|---:|');
    for (const [, c] of Object.entries(o)) {
      L.push(
        `| ${c.label} | \`${c.cmd.replace(process.execPath, 'node').replace(root, '')}\` | ${c.error ? `failed: ${c.error}` : f(c.median)} | ${c.runs ?? ''} | ${ratio(c.median, ss)} | ${ratio(c.median, floor)} | ${f(c.cpu)} | ${ratio(c.cpu, ssCpu)} |`,
      );
    }
    L.push(`| floor (cat + fd walk) | | ${f(floor)} | | ${ratio(floor, ss)} | 1.00× | ${f(floorCpu)} | ${ratio(floorCpu, ssCpu)} |`);
    const a = r.agent;
    const tick = a.steady.tickMs.median / 1000;
    const tickCpu = a.steady.cpuMsPerTick / 1000;
    L.push(
      `| steady-state tick with owners (running agent, median of ${a.steady.ticks}; p90 ${a.steady.tickMs.p90} ms) | \`collector.collectMs\` via /api/health; CPU: agent's utime+stime per tick | ${f(tick)} | ${a.steady.ticks} | ${ratio(tick, ss)} | ${ratio(tick, floor)} | ${f(tickCpu)} | ${ratio(tickCpu, ssCpu)} |`,
    );
    const churnTick = a.churn.tickMs.median / 1000;
    L.push(`| steady-state tick at 1% churn/s (${a.churn.perSecond} pairs closed + opened per s) | same | ${f(churnTick)} | ${a.churn.ticks} | ${ratio(churnTick, ss)} | ${ratio(churnTick, floor)} |`);
    const ssChurn = a.churn.ssTan?.median;
    if (ssChurn != null) L.push(`| \`ss -tan\` under the same churn (agent running) | \`ss -tan\` | ${f(ssChurn)} | ${a.churn.ssTan.runs} | ${ratio(ssChurn, ss)} | ${ratio(ssChurn, floor)} |`, `| churn tick ÷ \`ss -tan\` under churn | | ${ratio(churnTick, ssChurn)} | | | |`);
    L.push('');
    L.push(
      `Running agent: effective interval ${a.steady.effectiveIntervalMs} ms; /api/health latency while collecting median ${a.steady.healthMs.median?.toFixed(1)} ms, ` +
        `p99 ${a.steady.healthMs.p99?.toFixed(1)} ms, max ${a.steady.healthMs.max?.toFixed(1)} ms (${a.steady.healthMs.n} requests; with churn p99 ${a.churn.healthMs.p99?.toFixed(1)} ms); ` +
        `RSS ${a.quietRssMB != null ? `${a.quietRssMB.toFixed(0)} MB after the steady ticks, ${a.churnRssMB.toFixed(0)} MB after churn` : `${a.rssMB.toFixed(0)} MB`}; peak ${(a.quietHwmMB ?? a.hwmMB).toFixed(0)} MB before churn (start, first snapshot, steady ticks), ` +
        `${a.hwmMB.toFixed(0)} MB with churn${a.churnSockets ? ` (${a.churnSockets} sockets at its end, TIME_WAIT included)` : ''}.`,
    );
    if (a.cpu) {
      const n = (w) => (w.sockets ? `, ${w.sockets.join(' → ')} TCP and UDP sockets` : '');
      const idle = a.cpuIdle ? `before the churn phase (nothing moving) ${a.cpuIdle.cpuPercentOfOneCore.toFixed(2)}% of one core, RSS ${a.cpuIdle.rssMB.toFixed(0)} MB${n(a.cpuIdle)}; after it (its TIME_WAITs expiring) ` : '';
      L.push(`CPU over ${a.cpu.windowSec.toFixed(0)} s at 1 Hz (from /proc/<pid>/stat utime+stime, one /ws client connected): ${idle}${a.cpu.cpuPercentOfOneCore.toFixed(2)}% of one core; RSS ${a.cpu.rssMB.toFixed(0)} MB${n(a.cpu)}.`);
    }
    const s = a.stream;
    L.push(
      `Stream: first snapshot ${(s.firstSnapshotBytes / 1024).toFixed(0)} KiB for ${s.firstSnapshotSockets} sockets = ${s.bytesPerSocket?.toFixed(0)} B/socket; ` +
        `idle delta ${s.idleDeltaBytes} B/tick (aggregate sections resent: ${Object.entries(s.idleAggregateBytes).map(([k, v]) => `${k} ${v} B in ${s.idleAggregateSentInTicks[k]} ticks`).join(', ') || 'none'}); ` +
        `at 1% churn/s ${s.churnDeltaBytes} B/tick for ${s.churnChangedSockets} changed sockets = ${s.bytesPerChangedSocket?.toFixed(0)} B per changed socket above the idle delta ` +
        `(socket section alone ${s.churnSocketBytesPerChanged?.toFixed(0)} B per changed socket).`,
      `On the wire (\`${s.path}\`, extensions: ${s.extensions}): first snapshot ${(s.firstSnapshotWireBytes / 1024).toFixed(0)} KiB; ` +
        `idle delta ${s.idleDeltaWireBytes} B/tick; at 1% churn/s ${s.churnDeltaWireBytes} B/tick = ${s.wireBytesPerChangedSocket?.toFixed(0)} B per changed socket above the idle delta.` +
        ` An idle tick carried ${s.idleChangedSockets} changed sockets (median).`,
      '',
    );
  }
  // Targets
  const by = Object.fromEntries(results.filter((r) => !r.error).map((r) => [r.scale, r]));
  const T = [];
  const big = by[100000];
  if (big?.oneShot.ssTan) {
    const o = big.oneShot;
    T.push(['steady tick ≤ 1.0× `ss -tan` at 100k pairs', `${ratio(big.agent.steady.tickMs.median / 1000, o.ssTan.median)}`, big.agent.steady.tickMs.median / 1000 <= o.ssTan.median]);
  }
  for (const sc of [50000, 100000]) {
    const r = by[sc];
    if (!r?.oneShot.cat) continue;
    const o = r.oneShot;
    const floor = o.cat.median + o.fdwalk.median;
    T.push([`\`--once\` (bare node) ≤ 1.25× floor at ${sc / 1000}k`, ratio(o.agentOnce.median, floor), o.agentOnce.median <= 1.25 * floor]);
    T.push([`\`pnpm start -- --once\` ≤ 1.25× floor at ${sc / 1000}k`, ratio(o.pnpmOnce.median, floor), o.pnpmOnce.median != null ? o.pnpmOnce.median <= 1.25 * floor : null]);
    T.push([`\`--once\` (bare node) ≤ 0.5× \`ss -tanp\` at ${sc / 1000}k`, ratio(o.agentOnce.median, o.ssTanp.median), o.agentOnce.median <= 0.5 * o.ssTanp.median]);
    T.push([`\`pnpm start -- --once\` ≤ 0.5× \`ss -tanp\` at ${sc / 1000}k`, ratio(o.pnpmOnce.median, o.ssTanp.median), o.pnpmOnce.median != null ? o.pnpmOnce.median <= 0.5 * o.ssTanp.median : null]);
  }
  for (const r of results.filter((x) => !x.error)) {
    T.push([`/api/health p99 < 100 ms while collecting at ${r.scale / 1000}k`, `${r.agent.steady.healthMs.p99?.toFixed(1)} ms (churn ${r.agent.churn.healthMs.p99?.toFixed(1)} ms)`, Math.max(r.agent.steady.healthMs.p99, r.agent.churn.healthMs.p99) < 100]);
  }
  const biggest = results.filter((x) => !x.error).at(-1);
  if (biggest && biggest.scale >= 100000) {
    const sockets = biggest.sockstat.tcpInuse + biggest.sockstat.tcpTw + biggest.sockstat.udp;
    const quiet = biggest.agent.quietHwmMB ?? biggest.agent.hwmMB;
    T.push([
      `RSS ≤ 400 MB at ${biggest.scale / 1000}k pairs (${sockets} sockets; peak from start through the first snapshot and steady ticks)`,
      `${quiet.toFixed(0)} MB peak (with 1% churn/s, ${biggest.agent.churnSockets ?? '?'} sockets: ${biggest.agent.hwmMB.toFixed(0)} MB)`,
      quiet <= 400,
    ]);
  }
  // The issue's budget is "≤ 80 MB and ≤ 1% of one core at 1 Hz with 1k sockets": 500 pairs are
  // ~1k sockets (as 100k pairs are its "200k sockets"). 1k pairs (~2k sockets) are reported beside
  // it, twice the sockets the budget names.
  for (const [sc, label, judged] of [
    [500, '1k sockets (500 pairs)', true],
    [1000, '1k pairs (~2k sockets, twice the budget\'s count)', false],
  ]) {
    const small = by[sc];
    if (!small?.agent.cpu) continue;
    // judged on the higher of the two windows (idle, after churn), RSS likewise
    const windows = [small.agent.cpuIdle, small.agent.cpu].filter(Boolean);
    const rss = Math.max(...windows.map((w) => w.rssMB));
    const pct = Math.max(...windows.map((w) => w.cpuPercentOfOneCore));
    const both = windows.length > 1 ? ` (idle ${small.agent.cpuIdle.cpuPercentOfOneCore.toFixed(2)}%, after churn ${small.agent.cpu.cpuPercentOfOneCore.toFixed(2)}%)` : '';
    const counts = windows.flatMap((w) => w.sockets ?? []);
    const sockets = counts.length > 0 ? `${Math.min(...counts)}-${Math.max(...counts)}` : '?';
    const status = (ok) => (judged ? ok : ok ? 'under (not the target)' : 'over (not the target)');
    T.push([`RSS ≤ 80 MB at ${label}, 1 Hz, 60 s`, `${rss.toFixed(0)} MB (${sockets} TCP and UDP sockets in the windows)`, status(rss <= 80)]);
    T.push([`CPU ≤ 1% of one core at ${label}, 1 Hz, 60 s`, `${pct.toFixed(2)}%${both}`, status(pct <= 1)]);
  }
  for (const r of results.filter((x) => !x.error)) {
    const s = r.agent.stream;
    T.push([
      `steady traffic ≤ 200 B per changed socket + small constant at ${r.scale / 1000}k (on the wire)`,
      `${s.wireBytesPerChangedSocket?.toFixed(0)} B/changed + ${s.idleDeltaWireBytes} B (JSON: ${s.bytesPerChangedSocket?.toFixed(0)} B/changed + ${s.idleDeltaBytes} B)` +
        `; idle ticks: ${s.idleChangedSockets} changed sockets (median)`,
      s.wireBytesPerChangedSocket != null ? s.wireBytesPerChangedSocket <= 200 && s.idleDeltaWireBytes < 1024 : null,
    ]);
  }
  L.push('## Targets', '', '| target | figure | status |', '|---|---|---|');
  for (const [t, v, b] of T) L.push(`| ${t} | ${v} | ${ok(b)} |`);
  L.push('', 'Browser figures (first rows, long tasks while scrolling, JS heap) are not measured by this bench yet.', '');
  L.push('Raw figures: `bench/results/latest.json`.', '');
  return L.join('\n');
}

async function main() {
  if (!flags['no-build']) {
    log('building the agent…');
    const b = spawnSync('pnpm', ['--filter', '@netscope/agent', 'run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
    if (b.status !== 0) throw new Error('agent build failed');
  }
  if (!existsSync(AGENT)) throw new Error(`${AGENT} missing: build the agent first`);
  const env = envInfo();
  log(`scales ${scales.join(', ')}; ${env.hyperfine}`);
  const results = [];
  for (const [i, scale] of scales.entries()) {
    try {
      results.push(await benchScale(scale, i));
    } catch (err) {
      log(`scale ${scale} failed: ${err.stack ?? err}`);
      results.push({ scale, error: String(err.message ?? err) });
    }
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ env, results }, null, 2) + '\n');
    writeFileSync(flags.out, markdown(env, results));
  }
  log(`wrote ${flags.out}`);
}

try {
  await main();
} finally {
  cleanupSync();
}
