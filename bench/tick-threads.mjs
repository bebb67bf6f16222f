#!/usr/bin/env node
// In-process collector ticks with, per tick, the CPU each thread of this process ran and how long
// it waited for a CPU (/proc/self/task/<tid>/schedstat), so a long tick can be told apart from a
// starved one: `node bench/tick-threads.mjs [ticks]` (e.g. while `bench/gen.mjs` churns).
import { readdirSync, readFileSync } from 'node:fs';
import { loadCollector } from './load-collector.mjs';

const Collector = await loadCollector();
const c = new Collector({ roots: { proc: '/proc', sys: '/sys', etc: '/etc' }, intervalMs: 1000, owners: true, live: true });

/** tid → { run, wait } in ms since the thread started. */
function threads() {
  const out = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(tid, { run: run / 1e6, wait: wait / 1e6 });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

for (let i = 0; i < Number(process.argv[2] ?? 5); i++) {
  const before = threads();
  const snap = await c.collect();
  const after = threads();
  const main = { run: 0, wait: 0 };
  const others = { run: 0, wait: 0 };
  for (const [tid, t] of after) {
    const b = before.get(tid) ?? { run: 0, wait: 0 };
    const into = tid === String(process.pid) ? main : others;
    into.run += t.run - b.run;
    into.wait += t.wait - b.wait;
  }
  const r = (x) => Math.round(x);
  console.log(
    `tick ${i}: ${snap.sockets.length} sockets (${snap.ownership.socketsUnowned} without owner), ${snap.collector.collectMs} ms; ` +
      `main thread ran ${r(main.run)} ms, waited ${r(main.wait)} ms for a CPU; other threads ran ${r(others.run)} ms, waited ${r(others.wait)} ms; ` +
      `owner walk ${JSON.stringify(c.ownerWalkStats)}`,
  );
  await new Promise((res) => setTimeout(res, 1000));
}
process.exit(0);
