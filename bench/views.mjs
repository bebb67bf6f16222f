#!/usr/bin/env node
// `node bench/views.mjs [--pairs 100000] [--window 20]`
//
// The agent's side of the pages' tables at scale: builds a /proc tree with ~2×pairs TCP sockets
// (bench/fixture-tree.mjs), runs the built agent on it, and times GET /api/processes,
// /api/listening, /api/remote (twice each: the first answer for a snapshot makes the table, the
// next is served from it) and /api/processes/<pid>; then /api/health latency polled every 20 ms
// for `window` seconds with no page asking, and again while /api/remote?sort=address and
// /api/processes/<pid>?sort=remote are asked every 200 ms. Every process it starts is ended by
// its own pid; the tree is removed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, intFlag } from './args.mjs';
import { buildTree, cleanup } from './fixture-tree.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'node bench/views.mjs [--pairs 100000] [--window 20]';
const flags = benchFlags('views', USAGE, { pairs: { type: 'string', default: '100000' }, window: { type: 'string', default: '20' } });
const PAIRS = intFlag('views', USAGE, 'pairs', flags.pairs, 1, 200_000);
const WINDOW_MS = intFlag('views', USAGE, 'window', flags.window, 1) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => process.stderr.write(`bench:views: ${a.join(' ')}\n`);

const tree = buildTree({ pairs: PAIRS });
const dataDir = mkdtempSync(join(os.tmpdir(), 'netscope-views-'));
const port = 19_000 + (process.pid % 1000);
const agent = spawn(process.execPath, [join(root, 'apps/agent/dist/main.js'), '--proc-root', tree.proc, '--port', String(port), '--interval', '1000', '--quiet', '--data-dir', dataDir], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

async function timed(path) {
  const t = performance.now();
  const res = await fetch(base + path);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.error}`);
  return { ms: performance.now() - t, body };
}

async function health(label, ask) {
  let stop = false;
  const asker = ask ? (async () => { while (!stop) { await ask(); await sleep(200); } })() : null;
  const lat = [];
  const t0 = Date.now();
  while (Date.now() - t0 < WINDOW_MS) {
    lat.push((await timed('/api/health')).ms);
    await sleep(20);
  }
  stop = true;
  await asker;
  lat.sort((a, b) => a - b);
  log(`/api/health ${label}: ${lat.length} requests, median ${lat[lat.length >> 1].toFixed(1)} ms, p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
}

try {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    if (Date.now() > deadline) throw new Error('agent did not answer in 180 s');
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {
      /* not up yet */
    }
    await sleep(300);
  }
  await sleep(5000);
  const h = (await timed('/api/health')).body;
  log(`agent on ${tree.socks.length} TCP sockets: tick ${h.collectMs} ms, interval ${h.effectiveIntervalMs} ms`);
  const top = (await timed('/api/processes')).body.rows.find((r) => r.pid !== null);
  for (const path of ['/api/processes', '/api/listening', '/api/remote', '/api/remote?sort=address', `/api/processes/${top.pid}`, `/api/processes/${top.pid}?sort=remote&dir=desc`, '/api/processes/kernel']) {
    const a = await timed(path);
    const b = await timed(path);
    log(`${path}: ${a.ms.toFixed(0)} ms (agent ${a.body.ms} ms), again ${b.ms.toFixed(0)} ms (agent ${b.body.ms} ms)`);
  }
  await health('with no page asking', null);
  await health(`while /api/remote?sort=address and /api/processes/${top.pid}?sort=remote are asked every 200 ms`, async () => {
    await timed('/api/remote?sort=address');
    await timed(`/api/processes/${top.pid}?sort=remote`);
  });
} finally {
  agent.kill('SIGTERM');
  cleanup(tree);
  rmSync(dataDir, { recursive: true, force: true });
}
