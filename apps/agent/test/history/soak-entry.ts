/**
 * Soak: the real collector → alert engine → history → store, for many accelerated ticks (each tick
 * advances the snapshot clock by 1 s; no sleeping). Every 60 ticks a burst of synthetic
 * ESTABLISHED/SYN_RECV sockets from changing addresses is added for 20 ticks, so alerts raise and
 * clear all along (log, per-address tracking, store writes). Prints heap (after GC) over time as
 * JSON lines; the last line is the summary. Run by scripts/soak.mjs (bundled, node --expose-gc).
 *
 *   node apps/agent/scripts/soak.mjs [--ticks N] [--proc-root DIR | --live] [--tiers small]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { InetSocket, Snapshot } from '@netscope/shared';
import { Collector } from '../../src/collect/collector.js';
import { defaultAlertsConfig } from '../../src/alerts/config.js';
import { Monitor } from '../../src/alerts/monitor.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '20000' },
    'proc-root': { type: 'string' },
    live: { type: 'boolean', default: false },
    'sample-every': { type: 'string' },
    /** small: tiers of 5 min / 30 min / 1 h, so every ring is full after 3600 ticks and the heap must then stay flat. */
    tiers: { type: 'string', default: 'default' },
  },
});
const ticks = Number(values.ticks);
const procRoot = values.live ? '/proc' : resolve(values['proc-root'] ?? 'apps/agent/test/fixtures/proc/debian-live');
const sampleEvery = Number(values['sample-every'] ?? Math.max(1, Math.floor(ticks / 10)));
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const heap = (): { heapMB: number; rssMB: number } => {
  gc();
  gc();
  const m = process.memoryUsage();
  // heapUsed + arrayBuffers: history points keep their numbers in typed arrays, outside the JS heap.
  return { heapMB: Math.round(((m.heapUsed + m.arrayBuffers) / 1048576) * 10) / 10, rssMB: Math.round((m.rss / 1048576) * 10) / 10 };
};

function dirSize(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

function burst(tick: number, n: number): InetSocket[] {
  const out: InetSocket[] = [];
  const net = tick % 250;
  for (let i = 0; i < n; i++) {
    out.push({
      id: `soak ${tick} ${i}`,
      proto: 'tcp',
      family: 4,
      localAddress: '10.0.0.1',
      localPort: 443,
      remoteAddress: `198.51.${net}.${i % 8}`,
      remotePort: 20000 + i,
      state: i % 3 === 0 ? 'SYN_RECV' : 'ESTABLISHED',
      stateCode: i % 3 === 0 ? 3 : 1,
      recvQ: 0,
      sendQ: 0,
      uid: 0,
      user: 'root',
      timer: { kind: 'off', code: 0, expiresAt: null, retransmits: 0, probes: 0 },
      inode: 900000 + i,
      pid: null,
      program: null,
      fd: null,
    });
  }
  return out;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'netscope-soak-'));
  const sysRoot = values.live ? '/sys' : join(procRoot, '..', 'sys');
  const etcRoot = values.live ? '/etc' : join(procRoot, '..', 'etc');
  const collector = new Collector({ roots: { proc: procRoot, sys: sysRoot, etc: etcRoot }, intervalMs: 1000, owners: values.live, live: values.live });
  const alerts = defaultAlertsConfig();
  for (const r of Object.values(alerts.rules)) {
    r.raiseAfterSec = 3;
    r.clearAfterSec = 5;
  }
  alerts.services = [{ port: 22, proto: 'tcp', program: null, name: 'ssh' }];
  const tiers =
    values.tiers === 'small'
      ? [
          { resolutionSec: 1, spanSec: 300 },
          { resolutionSec: 10, spanSec: 1800 },
          { resolutionSec: 60, spanSec: 3600 },
        ]
      : undefined;
  const monitor = await Monitor.create(null, { alerts, dataDir, hostname: 'soak', tiers });
  const start = Date.now();
  const t0 = Date.now() - ticks * 1000; // simulated clock ends at "now", so the store keeps it all
  let events = 0;
  const samples: { tick: number; heapMB: number; rssMB: number }[] = [];
  const wall0 = performance.now();
  for (let i = 0; i < ticks; i++) {
    const snap: Snapshot = await collector.collect(1000, null);
    snap.time = t0 + i * 1000;
    if (i % 60 < 20) snap.sockets = [...snap.sockets, ...burst(Math.floor(i / 60), 400)];
    events += monitor.observe(snap).length;
    if (i === 200 || (i > 0 && i % sampleEvery === 0) || i === ticks - 1) {
      await monitor.store?.flush();
      const h = { tick: i, ...heap() };
      samples.push(h);
      console.log(JSON.stringify(h));
    }
  }
  await monitor.close();
  const base = samples.find((s) => s.tick >= 200) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const summary = {
    ticks,
    tiers: values.tiers,
    simulatedHours: Math.round((ticks / 3600) * 10) / 10,
    procRoot,
    wallSec: Math.round((performance.now() - wall0) / 100) / 10,
    msPerTick: Math.round(((performance.now() - wall0) / ticks) * 100) / 100,
    alertEvents: events,
    alertLogHeld: monitor.engine.log.length,
    historyPoints: monitor.history.tierInfo().map((t) => `${t.resolutionSec}s:${t.points}/${t.capacity}`).join(' '),
    storeBytes: dirSize(join(dataDir, 'store')),
    heapAtTick200MB: base.heapMB,
    heapEndMB: last.heapMB,
    heapGrowthMB: Math.round((last.heapMB - base.heapMB) * 10) / 10,
    rssEndMB: last.rssMB,
    storeStats: monitor.store?.stats ?? null,
    startedAt: new Date(start).toISOString(),
  };
  console.log(JSON.stringify({ summary }));
  rmSync(dataDir, { recursive: true, force: true });
}

void main();
