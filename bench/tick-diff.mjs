#!/usr/bin/env node
// Two-or-more collector ticks in-process, reporting per tick how many sockets were added,
// removed and changed, and which fields changed: `node bench/tick-diff.mjs [ticks]`.
import { loadCollector } from './load-collector.mjs';

const Collector = await loadCollector();
const c = new Collector({ roots: { proc: '/proc', sys: '/sys', etc: '/etc' }, intervalMs: 1000, owners: true, live: true });
let prev = null;
for (let i = 0; i < Number(process.argv[2] ?? 4); i++) {
  const snap = await c.collect();
  if (prev) {
    const before = new Map(prev.sockets.map((s) => [s.id, s]));
    let added = 0, changed = 0, same = 0;
    const fields = {};
    for (const s of snap.sockets) {
      const o = before.get(s.id);
      if (!o) { added++; continue; }
      before.delete(s.id);
      if (o === s) { same++; continue; }
      const diff = Object.keys({ ...o, ...s }).filter((k) => JSON.stringify(o[k]) !== JSON.stringify(s[k]));
      if (diff.length === 0) { same++; continue; }
      changed++;
      for (const k of diff) fields[k] = (fields[k] ?? 0) + 1;
    }
    console.log(`tick ${i}: ${snap.sockets.length} sockets, ${snap.collector.collectMs} ms; added ${added}, removed ${before.size}, changed ${changed} ${JSON.stringify(fields)}, unchanged ${same}; owner walk ${JSON.stringify(c.ownerWalkStats)}; sources ${JSON.stringify(Object.fromEntries(Object.entries(snap.sources).filter(([, v]) => v.message).map(([k, v]) => [k, v.message])))}`);
  }
  prev = snap;
  await new Promise((r) => setTimeout(r, 1000));
}
process.exit(0);
