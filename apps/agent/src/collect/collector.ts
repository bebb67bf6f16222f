/**
 * One tick: read every source (each on its own, so one broken source never breaks the rest),
 * join sockets to their owners, compute rates against the previous tick, assemble the Snapshot.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import {
  SCHEMA_VERSION,
  type InetProto,
  type InetSocket,
  type Ownership,
  type ProcessInfo,
  type Snapshot,
  type Socket,
  type SourceName,
  type SourceStatus,
  type UnixSocket,
  sameSocket,
} from '@netscope/shared';
import { keepFilesOpen, statusOf, tenthsOfMs, type OpenFiles, type ParseResult, type Roots } from '../procfs/source.js';
import { parseUnixSockets } from '../procfs/unix.js';
import type { OwnerScan } from '../procfs/owners.js';
import { OwnerCache } from '../procfs/owner-cache.js';
import { scanOwners } from '../procfs/owners.js';
import { FdWalker, TableReader, type FullScan } from '../procfs/table-reader.js';
import { applyOwner, buildUnixSocket, countUnowned, inetSocketId, withOwner, type NameMaps, type OwnerLookup } from './sockets.js';
import { countUnownedRecords, gatherDiag, type DeferredSockets, type DiagRecordList } from './diag-records.js';
import { InetTableCache, type InetTableResult } from './inet-cache.js';
import { DiagTableCache } from './diag-cache.js';
import { InodeSet } from './inode-set.js';
import { Slice } from '../yield.js';
import { DiagReader, type DiagOutcome } from '../netlink/sock-diag.js';
import { LinkWatch } from '../netlink/link-watch.js';
import type { DiagFamily } from '../netlink/inet-diag.js';
import { collectAggregates, type AggregateState } from './aggregates.js';
import { readNameMaps } from './names.js';
import { readSockstat, tablesCountedEmpty, TABLE_COUNT_GROUP } from '../procfs/sockstat.js';

export const INET_PROTOS: readonly InetProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];

export interface CollectorOptions {
  roots: Roots;
  intervalMs: number;
  owners: boolean;
  /** Live /proc: IPv4 interface addresses come from getifaddrs (os.networkInterfaces). */
  live: boolean;
  /**
   * Reuse last tick's work: Socket objects of unchanged /proc/net lines, fd links of fds that were
   * open last tick (default true). false: every tick is a cold collection, as `--once` is, and
   * sock_diag dumps run on the calling thread, blocking it (~0.2 s at 50k pairs): one-shot use only.
   */
  reuse?: boolean;
  /**
   * Where TCP sockets come from: `netlink` (sock_diag dumps, what ss reads; live only), `proc`
   * (/proc/net/tcp{,6}), or `auto` (default: netlink when live and it works here, else proc).
   */
  tcpSource?: TcpSource;
  /** The sock_diag reader (tests pass one that fails). */
  diag?: DiagReader;
  /** Secrets (the --token) to mask in command lines: ours, and a parent's such as `pnpm start -- --token T`. */
  redact?: readonly string[];
}

export const REDACTED = '***';

export type TcpSource = 'auto' | 'netlink' | 'proc';

/** Why netlink cannot serve the TCP tables with these options, or null when it can. */
export function netlinkUnavailable(opts: Pick<CollectorOptions, 'live' | 'tcpSource'>, reader: DiagReader): string | null {
  if (opts.tcpSource === 'proc') return 'tcp source is proc (--tcp-source proc)';
  if (!opts.live) return 'not the live /proc (a --proc-root tree is read as files)';
  return reader.available();
}

/** Replace every occurrence of each secret in a command line. Pure. */
export function redactCmdline(cmdline: string | null, secrets: readonly string[]): string | null {
  if (cmdline === null) return null;
  let out = cmdline;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(REDACTED);
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** `sockets: used N` of /proc/net/sockstat: every socket of the machine; 0 when unknown. */
export function socketsInUse(procRoot: string): number {
  try {
    const m = /^sockets: used (\d+)/m.exec(readFileSync(join(procRoot, 'net/sockstat'), 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Note dropped duplicate lines in a source's status without calling the source broken. */
export function withDuplicates(status: SourceStatus, dupes: number): SourceStatus {
  if (dupes === 0) return status;
  const note = `${dupes} duplicate line(s) dropped (sockets that moved while the table was read)`;
  return { ...status, message: status.message ? `${status.message}; ${note}` : note };
}

/** `unownedElsewhere`: sockets with an inode no process holds among those not in `sockets` (a one-shot's deferred records). */
export function ownershipSummary(scan: OwnerScan | null, sockets: readonly Socket[], root: boolean, unownedElsewhere = 0): Ownership {
  const socketsUnowned = countUnowned(sockets) + unownedElsewhere;
  if (scan === null) {
    return {
      status: 'disabled',
      reason: 'owner lookup is off (--no-owners)',
      isRoot: root,
      pidsScanned: 0,
      pidsDenied: 0,
      pidsVanished: 0,
      socketsUnowned,
    };
  }
  const partial = scan.pidsDenied > 0;
  const sample = scan.deniedSample.join(', ');
  return {
    status: partial ? 'partial' : 'complete',
    reason: partial
      ? `not all processes could be identified: ${scan.pidsDenied} process(es) of other users (e.g. pid ${sample}) cannot be inspected ` +
        `without root — run the agent as root to see every owner`
      : null,
    isRoot: root,
    pidsScanned: scan.pidsScanned,
    pidsDenied: scan.pidsDenied,
    pidsVanished: scan.pidsVanished,
    socketsUnowned,
  };
}

/** A source's time is taken as unchanged while within this many ms of the one last sent… */
export const SOURCE_MS_STEADY = 0.5;
/** …or within this share of it. */
export const SOURCE_MS_STEADY_SHARE = 0.25;

/**
 * This tick's source statuses, with last tick's object kept for every source whose status differs
 * only by a time within SOURCE_MS_STEADY ms or SOURCE_MS_STEADY_SHARE of last tick's (which is
 * then what it shows): the times move by tenths of a ms every tick, and sent the whole sources
 * section (~2.7 KB of JSON) down every /ws client each tick. When every source is kept, last
 * tick's object itself is returned, so the stream's diff sees an unchanged section at a glance.
 * As with a running timer (sockets.ts TIMER_JITTER_MS), a time that drifts is sent once it has
 * moved that far from the one shown.
 */
export function steadySources(prev: Snapshot['sources'] | null, cur: Snapshot['sources']): Snapshot['sources'] {
  let allKept = prev !== null;
  let n = 0;
  for (const key in cur) {
    n++;
    const k = key as SourceName;
    const c = cur[k]!;
    const p = prev?.[k];
    if (
      p !== undefined &&
      p.state === c.state &&
      p.path === c.path &&
      p.message === c.message &&
      p.badLines === c.badLines &&
      p.sample === c.sample &&
      Math.abs(p.ms - c.ms) <= Math.max(SOURCE_MS_STEADY, SOURCE_MS_STEADY_SHARE * p.ms)
    ) {
      cur[k] = p;
    } else {
      allKept = false;
    }
  }
  if (allKept && prev !== null) {
    let m = 0;
    for (const _ in prev) m++;
    if (m === n) return prev;
  }
  return cur;
}

function sameMap<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameNameMaps(a: NameMaps, b: NameMaps): boolean {
  return sameMap(a.users, b.users) && sameMap(a.services, b.services);
}

export class Collector {
  private seq = 0;
  private prevTimers = new Map<string, number>();
  private names: {
    maps: NameMaps;
    servicePorts: ReadonlyMap<string, readonly number[]> | null;
    statuses: Partial<Record<SourceName, SourceStatus>>;
    at: number;
  } | null = null;
  private aggregateState: AggregateState = { prevTime: null, prevIfCounters: new Map(), prevStats: undefined };
  private ownerCache: OwnerCache | null = null;
  private inetCaches = new Map<InetProto, InetTableCache>();
  private diagCaches = new Map<DiagFamily, DiagTableCache>();
  private diag: DiagReader;
  /** This tick's socket inodes (duplicate check, then the owner cache's live set). */
  private seenInodes = new InodeSet();
  /** Last tick's unix sockets by id. */
  private prevUnix = new Map<string, UnixSocket>();
  /** Last tick's source statuses (steadySources). */
  private prevSources: Snapshot['sources'] | null = null;
  /** Last tick's socket array (reused whole when nothing in it changed). */
  private prevSockets: Socket[] | null = null;
  /** This tick's socket array when it came out the same as last tick's (refilled next tick). */
  private spareSockets: Socket[] | null = null;
  /** null: TCP comes from sock_diag dumps; otherwise why it comes from /proc/net/tcp{,6}. */
  readonly tcpFromProcReason: string | null;
  /** Socket tables are read on a worker thread (table-reader.ts). */
  private reader = new TableReader();
  /** Re-read passwd and services this often. */
  static NAMES_TTL_MS = 30_000;

  /** The live /proc and /sys files kept open between ticks (null: a fixture tree, read anew each time). */
  private readonly files: OpenFiles | null;

  /**
   * The kernel's notices of interface and address changes (live /proc and /sys only); null: read
   * them every tick.
   */
  private linkWatch: LinkWatch | null | undefined;
  private ifaddrs: NodeJS.Dict<NetworkInterfaceInfo[]> | null = null;
  private linksReadAt = -Infinity;
  /** Interfaces and addresses are read at least this often, notices or not. */
  static LINKS_REREAD_MS = 60_000;

  constructor(private readonly opts: CollectorOptions) {
    // A one-shot collection dumps on this thread, which has nothing else to do meanwhile: a dump
    // thread of its own cost ~40-60 ms of CPU to start (at 50k pairs, ~5% of a `--once`).
    this.diag = opts.diag ?? new DiagReader(opts.reuse === false ? Infinity : undefined);
    this.tcpFromProcReason = netlinkUnavailable(opts, this.diag);
    // the kernel's own trees only: a --sys-root beside the live /proc may be a tree of regular files
    this.files = opts.live ? keepFilesOpen(opts.roots.sys === '/sys' ? [opts.roots.proc, '/sys'] : [opts.roots.proc]) : null;
  }

  /** Where this collector reads TCP sockets from. */
  get tcpSource(): 'netlink' | 'proc' {
    return this.tcpFromProcReason === null ? 'netlink' : 'proc';
  }

  /**
   * Below this many sockets (last tick's, or /proc/net/sockstat's count before the first tick) a
   * full owner walk runs on this thread: at 1k sockets it is ~15 ms of readlinks, while starting
   * the two walker threads cost ~100 ms of CPU per walk (one a minute) and left memory behind.
   */
  static WALKER_THREADS_AFTER_SOCKETS = 10_000;

  private ownerWalkOnThreads(): boolean {
    const sockets = this.prevSockets?.length ?? socketsInUse(this.opts.roots.proc);
    return sockets >= Collector.WALKER_THREADS_AFTER_SOCKETS;
  }

  /** Big full walks (the first, and the periodic ones) run on worker threads and seed the cache. */
  private newOwnerCache(): OwnerCache {
    return new OwnerCache(this.opts.roots.proc, {
      // comm and cmdline through kept descriptors: the live /proc only (a fixture file may be replaced)
      keepInfoFilesOpen: this.opts.live,
      // null: the cache walks on this thread
      fullWalker: (root) => (this.ownerWalkOnThreads() ? new FdWalker().walk(root) : Promise.resolve(null)),
    });
  }

  /**
   * /etc/services the other way round, as of the last tick: name or alias → ports, for port
   * filters (`https`, `www`). null before the first tick or without the file.
   */
  get servicePorts(): ReadonlyMap<string, readonly number[]> | null {
    return this.names?.servicePorts ?? null;
  }

  /** What the incremental owner walk did last tick (bench and diagnostics); null before its first walk. */
  get ownerWalkStats(): OwnerCache['last'] | null {
    return this.ownerCache?.last ?? null;
  }

  async collect(effectiveIntervalMs = this.opts.intervalMs, stretchedReason: string | null = null): Promise<Snapshot> {
    return (await this.run(effectiveIntervalMs, stretchedReason, false)).snapshot;
  }

  /**
   * A one-shot collection (`reuse: false`) whose TCP sockets from sock_diag are left as the kernel's
   * records, to be written out as JSON one at a time (`--once`, once-json.ts): the snapshot's
   * `sockets` holds the others, and `deferred` says where the records go among them.
   */
  async collectOnce(
    /** Called with the gathered records (no owners yet) while the owner walk may still run: work that can go ahead. */
    whileWalking?: (deferred: DeferredSockets) => void,
  ): Promise<{ snapshot: Snapshot; deferred: DeferredSockets }> {
    if (this.opts.reuse !== false) throw new Error('collectOnce: a one-shot collector (reuse: false) only');
    const { snapshot, deferred } = await this.run(this.opts.intervalMs, null, true, whileWalking);
    return { snapshot, deferred: deferred! };
  }

  private async run(
    effectiveIntervalMs: number,
    stretchedReason: string | null,
    defer: boolean,
    whileWalking?: (deferred: DeferredSockets) => void,
  ): Promise<{ snapshot: Snapshot; deferred: DeferredSockets | null }> {
    const started = performance.now();
    const now = Date.now();
    const { roots } = this.opts;
    const sources: Partial<Record<SourceName, SourceStatus>> = {};
    let ownersMs = 0;
    const reuse = this.opts.reuse !== false;
    const cold = !reuse || this.seq === 0;
    // A cold walk (one-shot, or a big first tick) runs on worker threads while the tables are read
    // and parsed here. It starts first: it is the longest part of a cold collection, and a one-shot
    // collection then blocks this thread with its sock_diag dump (see the constructor). A small
    // first tick of a running agent is the owner cache's first (full) walk instead.
    // A one-shot collection only looks its sockets up (FdWalker.lookup); a running agent's seeds its owner cache.
    const coldWalk: Promise<FullScan | OwnerScan | null> | null =
      this.opts.owners && cold && (!reuse || this.ownerWalkOnThreads()) ? (reuse ? new FdWalker().walk(roots.proc) : new FdWalker().lookup(roots.proc)) : null;

    if (this.names === null || now - this.names.at > Collector.NAMES_TTL_MS) {
      const fresh = await readNameMaps(roots);
      // Keep the old maps when nothing changed: the socket cache starts over on new map objects.
      const maps = this.names !== null && sameNameMaps(this.names.maps, fresh.maps) ? this.names.maps : fresh.maps;
      this.names = { maps, servicePorts: fresh.servicePorts, statuses: fresh.statuses, at: now };
    }
    Object.assign(sources, this.names.statuses);

    // Socket tables are read on a worker thread (table-reader.ts) and streamed: each inet table is
    // built while the rest is still being read, reusing last tick's Socket objects for unchanged
    // lines (inet-cache.ts). Owners: a cold collection (the first, `--once`, reuse: false) walks
    // every fd link on another worker thread while this one parses, and owners are filled in
    // after; later ticks update the owner cache here first (owner-cache.ts), then build.
    const useDiag = this.tcpFromProcReason === null;
    // One dump for both families where the kernel takes it (one walk of its hash tables, not two).
    const both = useDiag && this.diag.bothAvailable() === null;
    const diagFamilyOf = (proto: InetProto): DiagFamily | null =>
      !useDiag || (proto !== 'tcp' && proto !== 'tcp6') ? null : both ? 'both' : proto === 'tcp' ? 4 : 6;
    const diagDumps = new Map<DiagFamily, { outcome: DiagOutcome; t0: number }>();
    for (const proto of INET_PROTOS) {
      const family = diagFamilyOf(proto);
      if (family !== null && !diagDumps.has(family)) diagDumps.set(family, { outcome: this.diag.dump(family), t0: performance.now() });
    }
    // The running agent reads /proc/net/sockstat{,6} first (the aggregates take the same reads) and
    // skips a UDP, UDP-Lite or raw table they count no socket in: it would list none. Each read walks
    // the protocol's whole hash table in the kernel, socket or not (/proc/net/udplite with none:
    // 25-30 µs), and many machines have no UDP-Lite, raw or IPv6 UDP socket at all. A socket bound
    // after the count is in the next tick, as one bound after a read is. `--once` (reuse: false)
    // reads every table.
    const sockstats = this.opts.live && reuse ? await Promise.all([readSockstat(roots, 'sockstat'), readSockstat(roots, 'sockstat6')] as const) : null;
    const countedEmpty = sockstats === null ? new Set<InetProto>() : tablesCountedEmpty({ ...sockstats[0].data, ...sockstats[1].data });
    const inetReads = INET_PROTOS.map((proto) =>
      diagFamilyOf(proto) !== null || countedEmpty.has(proto) ? null : timed(() => this.reader.stream(roots.proc, `net/${proto}`)),
    );
    const unixRead = timed(() => this.reader.read(roots.proc, 'net/unix'));
    let ownerCache: OwnerCache | null = null;
    if (this.opts.owners && coldWalk === null) ownerCache = this.ownerCache ??= this.newOwnerCache();
    if (ownerCache) {
      const t0 = performance.now();
      await ownerCache.walk();
      ownersMs += performance.now() - t0;
    }
    const lookup: OwnerLookup | null = ownerCache && {
      byInode: ownerCache.holders,
      programOf: (pid) => ownerCache.programOf(pid),
    };

    // Filled by index into the array the last tick built and dropped (its sockets all the very
    // objects of the tick before): pushing into a new one grew it by copying, ~65 KB of garbage a
    // tick at 1k pairs (heap sampling profile).
    let sockets: Socket[] = this.spareSockets ?? [];
    this.spareSockets = null;
    let count = 0;
    // A /proc socket table is read in several chunks while the kernel keeps changing it, so a
    // socket that moves between hash buckets mid-read can be listed twice (ss over netlink has the
    // same race). Ids must be unique within a snapshot for deltas to be exact: keep the first.
    // (A socket with an inode is keyed by it — numbers hash far cheaper than 60-char ids at 200k
    // sockets, and an inode names one socket across every table; inode 0 ones by id.)
    const seen = new Set<string>();
    const seenInodes = this.seenInodes;
    seenInodes.clear();
    let dupes = 0;
    const pushUnique = (s: Socket): void => {
      const dup = s.inode !== 0 ? !seenInodes.add(s.inode) : seen.size === seen.add(s.id).size;
      if (dup) dupes++;
      else sockets[count++] = s;
    };
    // At 200k sockets each pass over them is tens of ms: HTTP gets a turn between slices.
    const slice = new Slice(15);
    const pushAll = (list: readonly Socket[]): Promise<void> => slice.each(list, pushUnique);
    const timers = new Map<string, number>();
    /**
     * Each dump built once, after the owner walk, by proto: a two-family dump serves tcp and tcp6.
     * Deferred (collectOnce): the dump's records by proto, not built.
     */
    type DiagTables =
      | { ok: true; tables: Map<InetProto, InetTableResult>; path: string; ms: number }
      | { ok: true; lists: ReadonlyMap<InetProto, DiagRecordList>; badLines: number; sample: string | null; path: string; ms: number }
      | { ok: false; message: string };
    const nameMaps = this.names.maps;
    const deferred: DeferredSockets | null = defer ? { segments: [], now, names: nameMaps, owners: null } : null;
    const buildDiag = async (family: DiagFamily): Promise<DiagTables> => {
      const dump = diagDumps.get(family)!;
      if (!dump.outcome.ok) return { ok: false, message: dump.outcome.message };
      if (defer) {
        const g = await gatherDiag(dump.outcome.batches, family);
        return g.ok ? { ...g, path: dump.outcome.path, ms: performance.now() - dump.t0 } : g;
      }
      let cache = this.diagCaches.get(family);
      if (cache === undefined || !reuse) {
        cache = new DiagTableCache(family === 'both' ? 'both' : family === 4 ? 'tcp' : 'tcp6', 15, reuse);
        this.diagCaches.set(family, cache);
      }
      const r = await cache.build(
        dump.outcome.batches,
        now,
        nameMaps,
        lookup,
        this.prevTimers,
        timers,
        ownerCache?.programsVersion ?? -1,
        ownerCache?.holdersVersion ?? -1,
        dump.outcome.expectBytes ?? 0,
      );
      if (!r.ok) return r;
      const tables = new Map<InetProto, InetTableResult>();
      if (family !== 'both') tables.set(family === 4 ? 'tcp' : 'tcp6', r);
      else {
        // Dump order mixes the families: tcp sockets first, then tcp6, as every other source.
        // counted first, then filled: two arrays of their final size, not grown by copying
        let n6 = 0;
        for (let i = 0; i < r.sockets.length; i++) if (r.sockets[i]!.proto === 'tcp6') n6++;
        const v4: InetSocket[] = new Array<InetSocket>(r.sockets.length - n6);
        const v6: InetSocket[] = new Array<InetSocket>(n6);
        let i4 = 0;
        let i6 = 0;
        await slice.each(r.sockets, (s) => {
          if (s.proto === 'tcp6') v6[i6++] = s;
          else v4[i4++] = s;
        });
        tables.set('tcp', { ...r, sockets: v4, parse: { ...r.parse, records: v4 } });
        tables.set('tcp6', { ...r, sockets: v6, parse: { records: v6, badLines: 0, sample: null, message: null } });
      }
      return { ok: true, tables, path: dump.outcome.path, ms: performance.now() - dump.t0 };
    };
    const diagBuilt = new Map<DiagFamily, Promise<DiagTables>>();
    for (const [i, proto] of INET_PROTOS.entries()) {
      let fallbackNote: string | null = null;
      const family = diagFamilyOf(proto);
      if (family !== null) {
        // sock_diag: a failed dump (rare: the kernel refused, or the reader thread died) falls
        // back to /proc for this tick, so the snapshot stays whole, and says so.
        let pending = diagBuilt.get(family);
        if (pending === undefined) diagBuilt.set(family, (pending = buildDiag(family)));
        const built = await pending;
        if (built.ok && 'lists' in built) {
          // deferred: the records stay where they are; duplicates are dropped as pushUnique drops them
          const list = built.lists.get(proto)!;
          const found = list.length;
          dupes = 0;
          list.filter((k) => {
            const inode = list.inode(k);
            const dup = inode !== 0 ? !seenInodes.add(inode) : seen.size === seen.add(inetSocketId(list.raw(k))).size;
            if (dup) dupes++;
            return !dup;
          });
          deferred!.segments.push({ at: count, list });
          // a two-family dump's bad messages count against tcp, as a built one's do
          const bad = proto === 'tcp' || family !== 'both' ? { badLines: built.badLines, sample: built.sample } : { badLines: 0, sample: null };
          const parse = { ...bad, message: null, records: { length: found } };
          sources[proto] = withDuplicates(statusOf({ ok: true, text: '', path: built.path }, parse, built.ms), dupes);
          continue;
        }
        if (built.ok) {
          const table = built.tables.get(proto)!;
          dupes = 0;
          await pushAll(table.sockets);
          sources[proto] = withDuplicates(statusOf({ ok: true, text: '', path: built.path }, table.parse, built.ms), dupes);
          continue;
        }
        fallbackNote = built.message;
      }
      if (countedEmpty.has(proto)) {
        this.inetCaches.delete(proto);
        const counter = join(roots.proc, 'net', proto.endsWith('6') ? 'sockstat6' : 'sockstat');
        const message = `not read: ${counter} counts no ${TABLE_COUNT_GROUP[proto]} socket`;
        sources[proto] = { state: 'ok', path: join(roots.proc, 'net', proto), message, badLines: 0, sample: null, ms: 0 };
        continue;
      }
      const { value: outcome, ms } = await (inetReads[i] ?? timed(() => this.reader.stream(roots.proc, `net/${proto}`)));
      const t0 = performance.now();
      let parsed: ParseResult<unknown> | null = null;
      if (outcome.ok) {
        let cache = this.inetCaches.get(proto);
        if (cache === undefined || !reuse) {
          cache = new InetTableCache(proto, 15, reuse);
          this.inetCaches.set(proto, cache);
        }
        const built = await cache.build(outcome.chunks, now, this.names.maps, lookup, this.prevTimers, timers, ownerCache?.programsVersion ?? -1);
        parsed = built.parse;
        dupes = 0;
        await pushAll(built.sockets);
      }
      const read = outcome.ok ? { ok: true as const, text: '', path: outcome.path } : outcome;
      const status = withDuplicates(statusOf(read, parsed, ms + performance.now() - t0), dupes);
      if (fallbackNote !== null) {
        const note = `sock_diag failed (${fallbackNote}); read ${outcome.path} instead`;
        status.message = status.message ? `${status.message}; ${note}` : note;
      }
      sources[proto] = status;
    }
    {
      const { value: outcome, ms } = await unixRead;
      const t0 = performance.now();
      let parsed: ParseResult<unknown> | null = null;
      if (outcome.ok) {
        const p = parseUnixSockets(outcome.text);
        parsed = p;
        dupes = 0;
        // Unix sockets are few and cheap to build, but new objects each tick made every tick's
        // array differ from the last: the summary, the alert counts and the stream's diff then
        // walked every socket. Last tick's object is kept when the rebuilt one equals it.
        const prevUnix = this.prevUnix;
        const unix = new Map<string, UnixSocket>();
        p.records.forEach((raw, i) => {
          let s = buildUnixSocket(raw, i, lookup);
          const was = prevUnix.get(s.id);
          if (was !== undefined && sameSocket(was, s)) s = was;
          unix.set(s.id, s);
          pushUnique(s);
        });
        this.prevUnix = reuse ? unix : new Map();
      }
      sources.unix = withDuplicates(statusOf(outcome, parsed, ms + performance.now() - t0), dupes);
    }
    sockets.length = count; // a spare array may be longer
    let scan: OwnerScan | null = null;
    if (deferred !== null) whileWalking?.(deferred);
    if (coldWalk) {
      const t0 = performance.now();
      const walked = await coldWalk;
      const found: OwnerScan = walked ?? (await scanOwners(roots.proc));
      const coldLookup: OwnerLookup = { byInode: found.byInode, programOf: (pid) => found.processes.get(pid)?.program ?? null };
      // These objects are this tick's own (nothing reused from a previous tick): fill in place.
      await slice.each(sockets, (s) => {
        if (s.inode !== 0) applyOwner(s, s.inode, coldLookup);
      });
      if (deferred !== null) deferred.owners = coldLookup;
      scan = { ...found, ms: found.ms + (performance.now() - t0) };
      // A running agent's next ticks start from this walk instead of reading every link again here.
      if (reuse && walked !== null && 'table' in walked) {
        const cache = (this.ownerCache ??= this.newOwnerCache());
        cache.seed(walked, 'first walk (worker threads)');
        // As after any full walk: check it against this tick's live inodes (sockets that came or
        // went while it ran) and note the sockets no process holds. Without this every tick until
        // the next full walk re-read every non-socket fd chasing them, then forced a full walk.
        const changed = await cache.verify(seenInodes);
        const cacheLookup: OwnerLookup = { byInode: cache.holders, programOf: (pid) => cache.programOf(pid) };
        for (const s of sockets) {
          if (!changed.has(s.inode)) continue;
          s.pid = s.program = s.fd = null;
          delete s.otherPids;
          applyOwner(s, s.inode, cacheLookup);
        }
        scan = cache.result(found.ms + (performance.now() - t0));
      }
    }
    if (ownerCache) {
      // Second pass with the live inodes: fds whose socket died were closed or reused; sockets
      // whose holders changed in this pass get their owner fields rebuilt.
      const t0 = performance.now();
      // every socket with an inode went through pushUnique: seenInodes is the set of live inodes
      const changed = await ownerCache.verify(seenInodes);
      if (changed.size > 0) {
        const next: Socket[] = [];
        await slice.each(sockets, (s) => next.push(changed.has(s.inode) ? withOwner(s, lookup) : s));
        sockets = next;
      }
      ownersMs += performance.now() - t0;
      scan = ownerCache.result(ownersMs);
    }
    this.prevTimers = timers;
    // Nothing changed (every socket the very object of last tick, in order): hand out last tick's
    // array itself, so the stream's diff, the summary and the alert counts can see it at a glance.
    const prev = this.prevSockets;
    if (prev !== null && prev.length === sockets.length) {
      let same = true;
      for (let i = 0; same && i < sockets.length; i++) {
        if ((i & 4095) === 4095) await slice.check();
        same = sockets[i] === prev[i];
      }
      if (same) {
        if (reuse) this.spareSockets = sockets; // nothing else holds it
        sockets = prev;
      }
    }
    this.prevSockets = reuse ? sockets : null;

    const root = isRoot();
    const ownership = ownershipSummary(scan, sockets, root, deferred === null ? 0 : countUnownedRecords(deferred));
    if (scan) {
      sources.ownership = {
        state: 'ok',
        path: `${roots.proc}/<pid>/fd`,
        message: ownership.reason,
        badLines: 0,
        sample: null,
        ms: tenthsOfMs(scan.ms),
      };
    }
    const processes: Record<string, ProcessInfo> = {};
    if (scan) {
      for (const p of scan.processes.values()) {
        processes[String(p.pid)] = {
          pid: p.pid,
          program: p.program,
          cmdline: redactCmdline(p.cmdline, this.opts.redact ?? []),
          uid: p.uid,
          user: p.uid === null ? null : (this.names.maps.users.get(p.uid) ?? null),
          socketCount: p.socketCount,
        };
      }
    }

    // Interface attributes (/sys/class/net) and addresses (getifaddrs) are read again only when the
    // kernel said a link or an address changed, and at least every LINKS_REREAD_MS.
    if (this.linkWatch === undefined) {
      // a running agent on the kernel's own /sys (a one-shot collection reads once anyway)
      const watch = this.opts.live && roots.sys === '/sys' && reuse ? LinkWatch.open() : null;
      this.linkWatch = watch instanceof LinkWatch ? watch : null;
    }
    const linksUnchanged = this.linkWatch !== null && !this.linkWatch.changed() && now - this.linksReadAt < Collector.LINKS_REREAD_MS;
    if (!linksUnchanged) {
      this.ifaddrs = this.opts.live ? networkInterfaces() : null;
      this.linksReadAt = now;
    }
    const agg = await collectAggregates(roots, now, this.aggregateState, this.ifaddrs, linksUnchanged, sockstats);
    this.aggregateState = agg.state;
    Object.assign(sources, agg.sources);
    const steady = steadySources(this.prevSources, sources);
    this.prevSources = reuse ? steady : null;

    this.seq++;
    // files no longer read (an interface that went away) are closed
    this.files?.sweep();
    const snapshot: Snapshot = {
      version: SCHEMA_VERSION,
      seq: this.seq,
      time: now,
      host: agg.host,
      collector: {
        intervalMs: this.opts.intervalMs,
        effectiveIntervalMs,
        stretchedReason,
        collectMs: Math.round((performance.now() - started) * 10) / 10,
        procRoot: roots.proc,
      },
      sockets,
      processes,
      ownership,
      routes: agg.routes,
      interfaces: agg.interfaces,
      stats: agg.stats,
      sockstat: agg.sockstat,
      multicast: agg.multicast,
      conntrack: agg.conntrack,
      kernel: agg.kernel,
      sources: steady,
    };
    return { snapshot, deferred };
  }
}
