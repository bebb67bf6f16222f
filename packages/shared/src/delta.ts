/**
 * Deltas between snapshots: `diffSnapshots` (agent) and `applyDelta` (page, tests).
 * Invariant, tested: applyDelta(a, diffSnapshots(a, b)) deep-equals b.
 */
import { AGGREGATE_KEYS, type ProcessInfo, type Snapshot, type SnapshotAggregates, type Socket } from './schema.js';
import { PROTOCOL_VERSION, type AggregatesForm, type DeltaMessage, type JsonPatch, type StatsPatch } from './messages.js';

/** What `aggregatesPatch` may not touch (sections it does not know are fine: a newer agent's). */
const NOT_AGGREGATES: ReadonlySet<string> = new Set(['sockets', 'version', 'seq', 'time']);

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

type JsonContainer = Record<string, unknown> | unknown[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Both objects, or both arrays of one length: `diffJson` patches them member by member. */
function patchable(a: unknown, b: unknown): a is JsonContainer {
  return (isRecord(a) && isRecord(b)) || (Array.isArray(a) && Array.isArray(b) && a.length === b.length);
}

/** A member set so that a key such as `__proto__` stays a plain own property. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * The patch turning `prev` into `next` (two objects, or two arrays of one length), null when they
 * are equal as JSON. A member holding `undefined` is absent (an array element: null), as
 * JSON.stringify has it.
 */
export function diffJson(prev: JsonContainer, next: JsonContainer): JsonPatch | null {
  const set: Record<string, unknown> = {};
  const patch: Record<string, JsonPatch> = {};
  const unset: string[] = [];
  let sets = 0;
  let patches = 0;
  const a = prev as Record<string, unknown>;
  const b = next as Record<string, unknown>;
  const array = Array.isArray(next);
  const keys = array ? next.map((_, i) => String(i)) : Object.keys(next);
  for (const key of keys) {
    let before = Object.prototype.hasOwnProperty.call(a, key) ? a[key] : undefined;
    let after = b[key];
    // JSON has no undefined array element: it is null.
    if (array) {
      before ??= null;
      after ??= null;
    }
    if (before === after) continue;
    if (after === undefined) {
      unset.push(key);
      continue;
    }
    if (patchable(before, after)) {
      const p = diffJson(before, after as JsonContainer);
      if (p) {
        put(patch, key, p);
        patches++;
      }
    } else if (!jsonEqual(before, after)) {
      put(set, key, after);
      sets++;
    }
  }
  if (!Array.isArray(prev)) {
    for (const key of Object.keys(prev)) {
      if (prev[key] !== undefined && !Object.prototype.hasOwnProperty.call(next, key)) unset.push(key);
    }
  }
  if (sets + patches + unset.length === 0) return null;
  const out: JsonPatch = {};
  if (sets > 0) out.set = set;
  if (patches > 0) out.patch = patch;
  if (unset.length > 0) out.unset = unset;
  return out;
}

/**
 * `base` with `patch` applied; `base` is not modified (members the patch does not touch are
 * shared). Throws on a patch that does not fit what it is applied to (an index past an array's end,
 * `unset` on an array, a patch for a member that is not an object or array): the client resyncs.
 */
export function applyJsonPatch<T>(base: T, patch: JsonPatch): T {
  if (Array.isArray(base)) {
    const out: unknown[] = base.slice();
    const index = (key: string): number => {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= out.length || String(i) !== key) {
        throw new Error(`patch index ${JSON.stringify(key)} outside an array of ${out.length}`);
      }
      return i;
    };
    if (patch.unset && patch.unset.length > 0) throw new Error('patch unsets members of an array');
    for (const [key, value] of Object.entries(patch.set ?? {})) out[index(key)] = value;
    for (const [key, sub] of Object.entries(patch.patch ?? {})) out[index(key)] = applyMember(out[index(key)], sub, key);
    return out as T;
  }
  if (!isRecord(base)) throw new Error('patch applied to a value that is neither object nor array');
  const out: Record<string, unknown> = { ...base };
  for (const key of patch.unset ?? []) delete out[key];
  for (const [key, value] of Object.entries(patch.set ?? {})) put(out, key, value);
  for (const [key, sub] of Object.entries(patch.patch ?? {})) {
    put(out, key, applyMember(Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined, sub, key));
  }
  return out as T;
}

function applyMember(value: unknown, sub: JsonPatch, key: string): unknown {
  if (typeof value !== 'object' || value === null) throw new Error(`patch for ${JSON.stringify(key)}, which is not an object or array`);
  return applyJsonPatch(value, sub);
}

/** Own enumerable keys of `o`, counted without the array Object.keys builds. */
function keyCount(o: object): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

// for-in, not Object.entries: ~350 counters a tick made as many [key, value] arrays (~140 KB/s of
// garbage in the agent, whose diff runs every tick).
function diffStats(prev: Snapshot['stats'], next: Snapshot['stats']): StatsPatch | 'replace' | null {
  const patch: StatsPatch = { counters: {}, rates: {} };
  let any = false;
  for (const part of ['counters', 'rates'] as const) {
    const p = prev[part] as Record<string, Record<string, number | null>>;
    const n = next[part] as Record<string, Record<string, number | null>>;
    if (keyCount(p) !== keyCount(n)) return 'replace';
    for (const group in n) {
      const values = n[group]!;
      const old = p[group];
      if (!old || keyCount(old) !== keyCount(values)) return 'replace';
      for (const key in values) {
        if (!(key in old)) return 'replace';
        const value = values[key];
        if (old[key] !== value) {
          const target = (patch[part] as Record<string, Record<string, number | null>>)[group] ?? {};
          target[key] = value!;
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

/**
 * What changed from `prev` to `next`, as one delta message; `form` says how changed sections
 * travel (`whole` in `aggregates`, `patch` in `aggregatesPatch`: see `toPatchForm`).
 */
export function diffSnapshots(prev: Snapshot, next: Snapshot, form: AggregatesForm = 'whole'): DeltaMessage {
  if (form === 'patch') return toPatchForm(diffSnapshots(prev, next), prev, next);
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
 * A whole-form delta from `prev` to `next` (`aggregates` holding each changed section whole)
 * rewritten with the changed sections as one patch of the top level in `aggregatesPatch`, and a
 * section that is gone from `next` (alerts, services) unset: the whole form cannot say that.
 * Sockets, processes and stats are carried as they are.
 */
export function toPatchForm(delta: DeltaMessage, prev: Snapshot, next: Snapshot): DeltaMessage {
  const set: Record<string, unknown> = {};
  const patch: Record<string, JsonPatch> = {};
  const unset: string[] = [];
  const before = prev as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  for (const key of Object.keys(delta.aggregates)) {
    const value = after[key];
    if (value === undefined) {
      if (before[key] !== undefined) unset.push(key);
      continue;
    }
    const p = patchable(before[key], value) ? diffJson(before[key], value as JsonContainer) : undefined;
    if (p === undefined) set[key] = value;
    else if (p !== null) patch[key] = p;
  }
  const out: DeltaMessage = { ...delta, aggregates: {} };
  delete out.aggregatesPatch;
  if (Object.keys(set).length + Object.keys(patch).length + unset.length > 0) {
    const aggregatesPatch: JsonPatch = {};
    if (Object.keys(set).length > 0) aggregatesPatch.set = set;
    if (Object.keys(patch).length > 0) aggregatesPatch.patch = patch;
    if (unset.length > 0) aggregatesPatch.unset = unset;
    out.aggregatesPatch = aggregatesPatch;
  }
  return out;
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

  let next: Snapshot = { ...base, ...delta.aggregates, sockets, seq: delta.seq, time: delta.time };
  if (delta.aggregatesPatch) {
    const p = delta.aggregatesPatch;
    for (const key of [...(p.unset ?? []), ...Object.keys(p.set ?? {}), ...Object.keys(p.patch ?? {})]) {
      if (NOT_AGGREGATES.has(key)) throw new Error(`aggregatesPatch names ${JSON.stringify(key)}, which is not an aggregate section`);
    }
    next = applyJsonPatch(next, p);
  }

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
