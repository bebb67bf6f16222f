/**
 * One tick: read every source (each on its own, so one broken source never breaks the rest),
 * join sockets to their owners, compute rates against the previous tick, assemble the Snapshot.
 */
import { networkInterfaces } from 'node:os';
import {
  SCHEMA_VERSION,
  type InetProto,
  type Ownership,
  type ProcessInfo,
  type Snapshot,
  type Socket,
  type SourceName,
  type SourceStatus,
} from '@netscope/shared';
import { readSource, statusOf, type ParseResult, type Roots } from '../procfs/source.js';
import { parseInetSockets } from '../procfs/inet.js';
import { parseUnixSockets } from '../procfs/unix.js';
import { scanOwners, type OwnerScan } from '../procfs/owners.js';
import { buildInetSocket, buildUnixSocket, countUnowned, type NameMaps, type OwnerLookup } from './sockets.js';
import { collectAggregates, type AggregateState } from './aggregates.js';
import { readNameMaps } from './names.js';

export const INET_PROTOS: readonly InetProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];

export interface CollectorOptions {
  roots: Roots;
  intervalMs: number;
  owners: boolean;
  /** Live /proc: IPv4 interface addresses come from getifaddrs (os.networkInterfaces). */
  live: boolean;
  /** Secrets (the --token) to mask in command lines: ours, and a parent's such as `pnpm start -- --token T`. */
  redact?: readonly string[];
}

export const REDACTED = '***';

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

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

export function ownershipSummary(scan: OwnerScan | null, sockets: readonly Socket[], root: boolean): Ownership {
  if (scan === null) {
    return {
      status: 'disabled',
      reason: 'owner lookup is off (--no-owners)',
      isRoot: root,
      pidsScanned: 0,
      pidsDenied: 0,
      pidsVanished: 0,
      socketsUnowned: countUnowned(sockets),
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
    socketsUnowned: countUnowned(sockets),
  };
}

export class Collector {
  private seq = 0;
  private prevTimers = new Map<string, number>();
  private names: { maps: NameMaps; statuses: Partial<Record<SourceName, SourceStatus>>; at: number } | null = null;
  private aggregateState: AggregateState = { prevTime: null, prevIfCounters: new Map(), prevStats: undefined };
  /** Re-read passwd and services this often. */
  static NAMES_TTL_MS = 30_000;

  constructor(private readonly opts: CollectorOptions) {}

  async collect(effectiveIntervalMs = this.opts.intervalMs, stretchedReason: string | null = null): Promise<Snapshot> {
    const started = performance.now();
    const now = Date.now();
    const { roots } = this.opts;
    const sources: Partial<Record<SourceName, SourceStatus>> = {};

    if (this.names === null || now - this.names.at > Collector.NAMES_TTL_MS) {
      this.names = { ...(await readNameMaps(roots)), at: now };
    }
    Object.assign(sources, this.names.statuses);

    // Socket tables, read concurrently; parsed synchronously (pure).
    const reads = await Promise.all(
      [...INET_PROTOS, 'unix' as const].map(async (proto) => timed(() => readSource(roots.proc, `net/${proto}`))),
    );
    const ownersTimed = this.opts.owners ? await timed(() => scanOwners(roots.proc)) : null;
    const scan = ownersTimed?.value ?? null;
    const lookup: OwnerLookup | null = scan && {
      byInode: scan.byInode,
      programOf: (pid) => scan.processes.get(pid)?.program ?? null,
    };

    const sockets: Socket[] = [];
    const timers = new Map<string, number>();
    INET_PROTOS.forEach((proto, i) => {
      const { value: outcome, ms } = reads[i]!;
      const t0 = performance.now();
      let parsed: ParseResult<unknown> | null = null;
      if (outcome.ok) {
        const p = parseInetSockets(outcome.text, proto);
        parsed = p;
        for (const raw of p.records) {
          const s = buildInetSocket(raw, now, this.names!.maps, lookup, this.prevTimers);
          if (s.timer.expiresAt !== null) timers.set(s.id, s.timer.expiresAt);
          sockets.push(s);
        }
      }
      sources[proto] = statusOf(outcome, parsed, ms + performance.now() - t0);
    });
    {
      const { value: outcome, ms } = reads[INET_PROTOS.length]!;
      const t0 = performance.now();
      let parsed: ParseResult<unknown> | null = null;
      if (outcome.ok) {
        const p = parseUnixSockets(outcome.text);
        parsed = p;
        p.records.forEach((raw, i) => sockets.push(buildUnixSocket(raw, i, lookup)));
      }
      sources.unix = statusOf(outcome, parsed, ms + performance.now() - t0);
    }
    this.prevTimers = timers;

    const root = isRoot();
    const ownership = ownershipSummary(scan, sockets, root);
    if (ownersTimed) {
      sources.ownership = {
        state: 'ok',
        path: `${roots.proc}/<pid>/fd`,
        message: ownership.reason,
        badLines: 0,
        sample: null,
        ms: ownersTimed.ms,
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

    const agg = await collectAggregates(roots, now, this.aggregateState, this.opts.live ? networkInterfaces() : null);
    this.aggregateState = agg.state;
    Object.assign(sources, agg.sources);

    this.seq++;
    return {
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
      sources,
    };
  }
}
