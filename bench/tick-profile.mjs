#!/usr/bin/env node
// Collector ticks in-process, for profiling: `node bench/tick-profile.mjs [ticks] [--cold]`
// (add `--cpu-prof` to node for a profile). Prints per tick: wall ms, CPU ms (user+sys), where the time went.
import { loadCollector } from './load-collector.mjs';

const Collector = await loadCollector();
const ticks = Number(process.argv[2] ?? 10);
const cold = process.argv.includes('--cold');
const c = new Collector({ roots: { proc: '/proc', sys: '/sys', etc: '/etc' }, intervalMs: 1000, owners: true, live: true, reuse: !cold });
for (let i = 0; i < ticks; i++) {
  const cpu0 = process.cpuUsage();
  const snap = await c.collect();
  const cpu = process.cpuUsage(cpu0);
  const src = snap.sources;
  console.log(
    `tick ${i}: ${snap.sockets.length} sockets, wall ${snap.collector.collectMs} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; ` +
      `tcp (${src.tcp?.path}) ${src.tcp?.ms.toFixed(0)} ms, ownership ${src.ownership?.ms.toFixed(0)} ms, unix ${src.unix?.ms.toFixed(0)} ms, route ${src.route?.ms.toFixed(0)} ms; ` +
      `owner walk ${JSON.stringify(c.ownerWalkStats)}`,
  );
  await new Promise((r) => setTimeout(r, 1000));
}
process.exit(0);
