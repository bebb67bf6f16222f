#!/usr/bin/env node
// `node bench/browser.mjs [--pairs 100000] [--churn 0] [--url http://127.0.0.1:P] [--proc-root DIR] [--web-root DIR] [--json FILE] [--profile FILE]`
//
// The page at scale, in Debian's Chromium through Playwright: builds a /proc tree with ~2×pairs TCP
// sockets (bench/fixture-tree.mjs), runs the built agent on it (or uses --url), and measures
//   /connections  time from navigation to the first table row (and to the snapshot frame's arrival),
//                 long tasks while loading, while idle (ticks only) and while scrolling the table
//                 end to end with the mouse wheel and the keyboard, JS heap after a forced GC;
//   / and /wall   long tasks over the same idle window and the heap after GC (also /processes,
//                 /processes/<the pid with most sockets>, /listening and /remote with --pages).
// Targets (issue 6): first rows ≤ 2 s, no long task > 50 ms while scrolling, heap ≤ 300 MB, / and /wall
// cheap. `--churn S` replaces a share S of the pairs every 2 s (0.01 = 1 %), so deltas carry sockets.
// Every process it starts is ended by its own pid; the tree is removed unless --proc-root was given.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, intFlag, usageError } from './args.mjs';
import { buildTree, churn, cleanup } from './fixture-tree.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');

const USAGE =
  'node bench/browser.mjs [--pairs 100000] [--churn SHARE] [--url URL | --proc-root DIR] [--interval MS] [--web-root DIR] [--idle S] [--json FILE] [--pages connections,overview,wall,…] [--profile FILE] [--profile-idle FILE]';
const flags = benchFlags('bench:browser', USAGE, {
  pairs: { type: 'string', default: '100000' },
  churn: { type: 'string', default: '0' },
  url: { type: 'string' },
  'proc-root': { type: 'string' },
  interval: { type: 'string', default: '1000' },
  /** Serve another build of the page (e.g. a copy of apps/web/dist from before a change). */
  'web-root': { type: 'string' },
  idle: { type: 'string', default: '10' },
  json: { type: 'string' },
  pages: { type: 'string', default: 'connections,overview,wall' },
  /** Write a CPU profile (.cpuprofile, for Chrome DevTools) of the wheel scroll here. */
  profile: { type: 'string' },
  /** Same, of the idle window on /connections (ticks only). */
  'profile-idle': { type: 'string' },
});
const PAIRS = intFlag('bench:browser', USAGE, 'pairs', flags.pairs, 1, 200_000);
intFlag('bench:browser', USAGE, 'interval', flags.interval, 100);
const CHURN = /^\s*\d*\.?\d+\s*$/.test(flags.churn) ? Number(flags.churn) : NaN;
if (!(CHURN >= 0 && CHURN <= 1)) usageError('bench:browser', USAGE, `--churn must be a share from 0 to 1 (0.01 = 1%), got "${flags.churn}"`);
if (CHURN > 0 && (flags.url !== undefined || flags['proc-root'] !== undefined)) {
  usageError('bench:browser', USAGE, '--churn needs the tree this script builds: leave out --url and --proc-root');
}
const PAGES = ['connections', 'overview', 'wall', 'processes', 'process', 'listening', 'remote'];
const unknownPage = flags.pages.split(',').find((p) => !PAGES.includes(p));
if (unknownPage !== undefined) usageError('bench:browser', USAGE, `--pages: no page "${unknownPage}"; pages are ${PAGES.join(', ')}`);
const log = (...a) => process.stderr.write(`bench:browser: ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const IDLE_MS = intFlag('bench:browser', USAGE, 'idle', flags.idle, 0) * 1000;
const MB = 1024 * 1024;

let agent = null;
let tree = null;
let churnTimer = null;
const dataDir = mkdtempSync(join(os.tmpdir(), 'netscope-bench-browser-'));
function cleanupAll() {
  if (churnTimer) clearInterval(churnTimer);
  if (agent && agent.exitCode === null) {
    try {
      process.kill(agent.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  if (tree) cleanup(tree);
  rmSync(dataDir, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanupAll();
  process.exit(130);
});

async function startAgent(procRoot) {
  const port = 19_000 + (process.pid % 1000);
  const args = [join(root, 'apps/agent/dist/main.js'), '--proc-root', procRoot, '--port', String(port), '--interval', flags.interval, '--data-dir', dataDir, '--quiet'];
  if (flags['web-root']) args.push('--web-root', flags['web-root']);
  agent = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) return url;
    } catch {
      /* not up yet */
    }
    await sleep(300);
  }
  throw new Error('agent did not answer within 120 s');
}

/** In every page before its scripts: long tasks, the first table row, big WebSocket frames. */
const INSTRUMENT = () => {
  const w = window;
  w.__bench = { longtasks: [], firstRowAt: null, frames: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__bench.longtasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const mo = new MutationObserver(() => {
    if (w.__bench.firstRowAt === null && document.querySelector('.socket-table .vrow [data-state]')) {
      w.__bench.firstRowAt = performance.now();
    }
  });
  document.addEventListener('DOMContentLoaded', () => mo.observe(document.body, { childList: true, subtree: true }));
  const Native = w.WebSocket;
  w.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        const n = typeof ev.data === 'string' ? ev.data.length : 0;
        if (n > 100_000) w.__bench.frames.push({ at: performance.now(), bytes: n });
      });
    }
  };
};

async function heapAfterGc(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usage.usedSize / MB;
}

const longtasksSince = (page, since) =>
  page.evaluate((t) => window.__bench.longtasks.filter((x) => x.start >= t).map((x) => x.ms), since);
const nowIn = (page) => page.evaluate(() => performance.now());
function summarise(ms) {
  const over50 = ms.filter((x) => x > 50);
  return { count: ms.length, over50: over50.length, maxMs: ms.length ? Math.round(Math.max(...ms)) : 0, totalMs: Math.round(ms.reduce((a, b) => a + b, 0)) };
}
const fmt = (s) => `${s.count} long tasks (${s.over50} > 50 ms), max ${s.maxMs} ms, total ${s.totalMs} ms`;

async function openPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  return { context, page };
}

async function benchConnections(browser, base) {
  const out = {};
  const { context, page } = await openPage(browser, `${base}/connections`);
  await page.waitForFunction(() => window.__bench.firstRowAt !== null, null, { timeout: 120_000, polling: 100 });
  const b = await page.evaluate(() => window.__bench);
  out.firstRowsMs = Math.round(b.firstRowAt);
  // The page's first window of rows from GET /api/connections (an older page: the snapshot frame).
  const firstWindow = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/connections') && r.responseEnd > 0);
    return e ? { at: e.responseEnd, bytes: e.encodedBodySize } : null;
  });
  out.firstWindowMs = firstWindow ? Math.round(firstWindow.at) : null;
  out.firstWindowKB = firstWindow ? +(firstWindow.bytes / 1024).toFixed(1) : null;
  out.snapshotFrameMs = b.frames[0] ? Math.round(b.frames[0].at) : null;
  out.snapshotFrameMB = b.frames[0] ? +(b.frames[0].bytes / MB).toFixed(1) : null;
  out.load = summarise(b.longtasks.filter((x) => x.start <= b.firstRowAt + 1000).map((x) => x.ms));
  out.rows = Number((await page.locator('.socket-table .vlist').getAttribute('aria-rowcount')) ?? 0);
  const arrived = out.firstWindowMs !== null ? `first window of rows, ${out.firstWindowKB} KB, arrived at ${out.firstWindowMs} ms` : `snapshot frame ${out.snapshotFrameMB} MB arrived at ${out.snapshotFrameMs} ms`;
  log(`/connections: first rows at ${out.firstRowsMs} ms (${arrived}), ${out.rows} rows; loading: ${fmt(out.load)}`);

  await sleep(3000);
  let t = await nowIn(page);
  const idleCdp = flags['profile-idle'] ? await context.newCDPSession(page) : null;
  if (idleCdp) {
    await idleCdp.send('Profiler.enable');
    await idleCdp.send('Profiler.start');
  }
  await sleep(IDLE_MS);
  if (idleCdp) {
    writeFileSync(flags['profile-idle'], JSON.stringify((await idleCdp.send('Profiler.stop')).profile));
    await idleCdp.detach();
  }
  out.idle = summarise(await longtasksSince(page, t));
  log(`/connections idle ${IDLE_MS / 1000} s (ticks only): ${fmt(out.idle)}`);

  // Mouse wheel, top to bottom in 400 notches, as fast as a user flinging the wheel.
  const vlist = page.locator('.socket-table .vlist');
  const box = await vlist.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const height = await vlist.evaluate((el) => el.scrollHeight);
  let cdp = null;
  if (flags.profile) {
    cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  t = await nowIn(page);
  const wheelStart = Date.now();
  const steps = 400;
  for (let i = 0; i < steps; i++) {
    await page.mouse.wheel(0, Math.ceil(height / steps));
    await sleep(16);
  }
  await page.waitForFunction(() => {
    const el = document.querySelector('.socket-table .vlist');
    return el && el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
  });
  await page.waitForTimeout(300);
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(flags.profile, JSON.stringify(profile));
    await cdp.detach();
  }
  const lastIndex = await page.evaluate(() => Math.max(...[...document.querySelectorAll('.socket-table .vrow')].map((r) => Number(r.dataset.index))));
  out.wheel = { ...summarise(await longtasksSince(page, t)), seconds: +((Date.now() - wheelStart) / 1000).toFixed(1), reachedEnd: lastIndex === out.rows - 1 };
  log(`/connections wheel scroll end to end (${steps} notches, ${out.wheel.seconds} s, last row ${lastIndex + 1}/${out.rows}): ${fmt(out.wheel)}`);

  // Keyboard: Home, PageDown ×60, End, PageUp ×60.
  await page.locator('.socket-table .vrow').first().focus();
  t = await nowIn(page);
  await page.keyboard.press('Home');
  for (let i = 0; i < 60; i++) await page.keyboard.press('PageDown');
  await page.keyboard.press('End');
  for (let i = 0; i < 60; i++) await page.keyboard.press('PageUp');
  await page.waitForTimeout(300);
  out.keys = summarise(await longtasksSince(page, t));
  log(`/connections keyboard Home, PageDown ×60, End, PageUp ×60: ${fmt(out.keys)}`);

  out.heapMB = +(await heapAfterGc(page)).toFixed(1);
  log(`/connections JS heap after GC: ${out.heapMB} MB`);
  await context.close();
  return out;
}

async function benchSimple(browser, base, path, ready) {
  const out = {};
  const { context, page } = await openPage(browser, `${base}${path}`);
  await page.waitForSelector(ready, { timeout: 120_000 });
  out.readyMs = Math.round(await nowIn(page));
  out.load = summarise(await longtasksSince(page, 0));
  await sleep(3000);
  const t = await nowIn(page);
  await sleep(IDLE_MS);
  out.idle = summarise(await longtasksSince(page, t));
  out.heapMB = +(await heapAfterGc(page)).toFixed(1);
  log(`${path}: data shown at ${out.readyMs} ms; loading: ${fmt(out.load)}; idle ${IDLE_MS / 1000} s: ${fmt(out.idle)}; heap after GC ${out.heapMB} MB`);
  await context.close();
  return out;
}

async function main() {
  let base = flags.url;
  let sockets = null;
  if (!base) {
    let procRoot = flags['proc-root'];
    if (!procRoot) {
      const t0 = performance.now();
      tree = buildTree({ pairs: PAIRS });
      procRoot = tree.proc;
      log(`fixture tree: ${tree.socks.length} TCP sockets in ${Math.round(performance.now() - t0)} ms at ${procRoot}`);
    }
    base = await startAgent(procRoot);
  }
  const health = await (await fetch(`${base}/api/health`)).json();
  sockets = health.sockets;
  log(`agent ${base}: ${sockets} sockets, tick ${health.collectMs} ms, interval ${health.effectiveIntervalMs} ms`);
  const share = CHURN;
  if (share > 0) {
    churnTimer = setInterval(() => churn(tree, share), 2000);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--enable-precise-memory-info'],
  });
  const results = { date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, sockets, churn: share, pages: {} };
  try {
    const pages = flags.pages.split(',');
    if (pages.includes('connections')) results.pages.connections = await benchConnections(browser, base);
    if (pages.includes('overview')) results.pages.overview = await benchSimple(browser, base, '/', '.tiles');
    if (pages.includes('wall')) results.pages.wall = await benchSimple(browser, base, '/wall', '[data-testid="wall"]:not([data-seq=""])');
    if (pages.includes('processes')) results.pages.processes = await benchSimple(browser, base, '/processes', 'table.data tr.clickable');
    if (pages.includes('process')) {
      // The process with the most sockets, as /processes ranks them.
      const top = (await (await fetch(`${base}/api/processes`)).json()).rows.find((r) => r.pid !== null);
      results.pages.process = await benchSimple(browser, base, `/processes/${top.pid}`, '.socket-table .vrow');
    }
    if (pages.includes('listening')) results.pages.listening = await benchSimple(browser, base, '/listening', 'table.data tbody tr');
    if (pages.includes('remote')) results.pages.remote = await benchSimple(browser, base, '/remote', 'table.data tbody tr');
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  if (flags.json) writeFileSync(flags.json, JSON.stringify(results, null, 2) + '\n');
}

main()
  .catch((err) => {
    process.stderr.write(`bench:browser: ${err.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(cleanupAll);
