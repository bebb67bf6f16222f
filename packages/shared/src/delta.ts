/**
 * Deltas between snapshots: `diffSnapshots` (agent) and `applyDelta` (page, tests).
 * Invariant, tested: applyDelta(a, diffSnapshots(a, b)) deep-equals b.
 */
import { AGGREGATE_KEYS, type ProcessInfo, type Snapshot, type SnapshotAggregates, type Socket } from './schema.js';
import { PROTOCOL_VERSION, type DeltaMessage, type StatsPatch } from './messages.js';

export class SequenceGapError extends Error {
  constructor(
    readonly heldSeq: number,
    readonly baseSeq: number,
  ) {
    super(`delta for seq ${baseSeq} does not apply to seq ${heldSeq}: resync needed`);
    this.name = 'SequenceGapError';
  }
}

/** Deep structural equality for JSON-shaped values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(bo, k)) return false;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  return true;
}

/** Field-by-field socket comparison; the hot path of every tick, so no serialisation. */
export function sameSocket(a: Socket, b: Socket): boolean {
  if (a === b) return true;
  if (a.proto !== b.proto || a.inode !== b.inode || a.pid !== b.pid || a.program !== b.program || a.fd !== b.fd) {
    return false;
  }
  if (!jsonEqual(a.otherPids, b.otherPids)) return false;
  if (a.proto === 'unix' || b.proto === 'unix') {
    if (a.proto !== 'unix' || b.proto !== 'unix') return false;
    return (
      a.refCount === b.refCount &&
      a.flags === b.flags &&
      a.type === b.type &&
      a.typeCode === b.typeCode &&
      a.state === b.state &&
      a.stateCode === b.stateCode &&
      a.acceptCon === b.acceptCon &&
      a.abstract === b.abstract &&
      a.path === b.path
    );
  }
  return (
    a.state === b.state &&
    a.stateCode === b.stateCode &&
    a.family === b.family &&
    a.recvQ === b.recvQ &&
    a.sendQ === b.sendQ &&
    a.uid === b.uid &&
    a.user === b.user &&
    a.localAddress === b.localAddress &&
    a.localPort === b.localPort &&
    a.remoteAddress === b.remoteAddress &&
    a.remotePort === b.remotePort &&
    a.localService === b.localService &&
    a.remoteService === b.remoteService &&
    a.timer.code === b.timer.code &&
    a.timer.kind === b.timer.kind &&
    a.timer.expiresAt === b.timer.expiresAt &&
    a.timer.retransmits === b.timer.retransmits &&
    a.timer.probes === b.timer.probes
  );
}

function diffStats(prev: Snapshot['stats'], next: Snapshot['stats']): StatsPatch | 'replace' | null {
  const patch: StatsPatch = { counters: {}, rates: {} };
  let any = false;
  for (const part of ['counters', 'rates'] as const) {
    const p = prev[part] as Record<string, Record<string, number | null>>;
    const n = next[part] as Record<string, Record<string, number | null>>;
    if (Object.keys(p).length !== Object.keys(n).length) return 'replace';
    for (const [group, values] of Object.entries(n)) {
      const old = p[group];
      if (!old || Object.keys(old).length !== Object.keys(values).length) return 'replace';
      for (const [key, value] of Object.entries(values)) {
        if (!(key in old)) return 'replace';
        if (old[key] !== value) {
          const target = (patch[part] as Record<string, Record<string, number | null>>)[group] ?? {};
          target[key] = value;
          (patch[part] as Record<string, Record<string, number | null>>)[group] = target;
          any = true;
        }
      }
    }
  }
  return any ? patch : null;
}

function diffProcesses(
  prev: Record<string, ProcessInfo>,
  next: Record<string, ProcessInfo>,
): DeltaMessage['processes'] | undefined {
  const set: Record<string, ProcessInfo> = {};
  const removed: string[] = [];
  let any = false;
  for (const [pid, info] of Object.entries(next)) {
    const old = prev[pid];
    if (!old || !jsonEqual(old, info)) {
      set[pid] = info;
      any = true;
    }
  }
  for (const pid of Object.keys(prev)) {
    if (!(pid in next)) {
      removed.push(pid);
      any = true;
    }
  }
  return any ? { set, removed } : undefined;
}

/** What changed from `prev` to `next`, as one delta message. */
export function diffSnapshots(prev: Snapshot, next: Snapshot): DeltaMessage {
  const prevById = new Map<string, Socket>();
  for (const s of prev.sockets) prevById.set(s.id, s);
  const added: Socket[] = [];
  const changed: Socket[] = [];
  for (const s of next.sockets) {
    const old = prevById.get(s.id);
    if (old === undefined) added.push(s);
    else {
      if (!sameSocket(old, s)) changed.push(s);
      prevById.delete(s.id);
    }
  }
  const removed = [...prevById.keys()];

  const aggregates: Partial<SnapshotAggregates> = {};
  let stats: StatsPatch | undefined;
  for (const key of AGGREGATE_KEYS) {
    if (key === 'processes') continue;
    if (key === 'stats') {
      const d = diffStats(prev.stats, next.stats);
      if (d === 'replace') aggregates.stats = next.stats;
      else if (d) stats = d;
      continue;
    }
    if (!jsonEqual(prev[key], next[key])) {
      (aggregates as Record<string, unknown>)[key] = next[key];
    }
  }
  const processes = diffProcesses(prev.processes, next.processes);
  const delta: DeltaMessage = {
    type: 'delta',
    v: PROTOCOL_VERSION,
    seq: next.seq,
    baseSeq: prev.seq,
    time: next.time,
    sockets: { added, changed, removed },
    aggregates,
  };
  if (processes) delta.processes = processes;
  if (stats) delta.stats = stats;
  return delta;
}

/**
 * Apply a delta to the snapshot it was made against and return the new snapshot. The input is not
 * modified. Socket order: survivors keep their order, added sockets are appended.
 * Throws SequenceGapError when the delta is for another seq.
 */
export function applyDelta(base: Snapshot, delta: DeltaMessage): Snapshot {
  if (delta.baseSeq !== base.seq) throw new SequenceGapError(base.seq, delta.baseSeq);
  const { added, changed, removed } = delta.sockets;
  let sockets = base.sockets;
  if (added.length > 0 || changed.length > 0 || removed.length > 0) {
    const replace = new Map<string, Socket>();
    for (const s of changed) replace.set(s.id, s);
    const gone = new Set(removed);
    sockets = [];
    for (const s of base.sockets) {
      if (gone.has(s.id)) continue;
      sockets.push(replace.get(s.id) ?? s);
    }
    for (const s of added) sockets.push(s);
  }

  const next: Snapshot = { ...base, ...delta.aggregates, sockets, seq: delta.seq, time: delta.time };

  if (delta.processes) {
    const processes = { ...base.processes };
    for (const pid of delta.processes.removed) delete processes[pid];
    Object.assign(processes, delta.processes.set);
    next.processes = processes;
  }
  if (delta.stats) {
    const counters = { ...next.stats.counters };
    const rates = { ...next.stats.rates };
    for (const [group, values] of Object.entries(delta.stats.counters)) counters[group] = { ...counters[group], ...values };
    for (const [group, values] of Object.entries(delta.stats.rates)) rates[group] = { ...rates[group], ...values };
    next.stats = { counters, rates };
  }
  return next;
}
