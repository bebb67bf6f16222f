/**
 * Incremental socket ownership: the same answer as `scanOwners` (a full walk of every
 * /proc/<pid>/fd link), without reading every link, or even listing every fd directory, each tick.
 * Listing /proc/<pid>/fd costs the kernel nearly as much per fd as reading the link, so at 200k
 * sockets both must be avoided for processes whose fds did not change.
 *
 * Pass 1 (`walk`, while the socket tables are being read), for every process:
 *  - stat /proc/<pid>: a different directory inode is a different process (pid reused) → forget it;
 *  - stat /proc/<pid>/fd: its size is the number of open fds (Linux ≥ 6.2). Unchanged count →
 *    nothing to do; changed → list the directory, readlink only fd numbers not seen last tick.
 *    Where the size is not the count (older kernels, fake trees) the directory is always listed.
 * Pass 2 (`verify`, with the inodes of the socket tables just read) catches what a count misses
 * (an fd closed and another opened between ticks; an fd number reused):
 *  - a cached socket inode that is in no socket table is dead: its fd was closed or reused →
 *    readlink it again; a closed one means the process changed → find its new fds: by probing the
 *    free fd numbers (new fds take the lowest; `probe`) where the count is known, else by listing;
 *  - holders of shared sockets (fork, dup, SCM_RIGHTS) are re-read every tick (they are few);
 *  - live sockets that no holder explains (and that the last full walk did not find unowned):
 *    stat every process again and list those whose count moved (sockets created while pass 1 ran);
 *    then list the probed directories after all, then re-read the non-socket fds of processes
 *    whose fds changed this tick (a file fd closed and its number reused for a socket), each step
 *    only while sockets stay unexplained; one still unexplained on the next tick makes every
 *    non-socket fd of every process be re-read;
 *  - sockets still unexplained on two ticks in a row schedule a full walk (at most one per
 *    `minFullIntervalMs`).
 * A change that slips through all of that (a socket's only fd closed while the socket lives on
 * without any fd, e.g. in flight in SCM_RIGHTS, and the count balanced by another open) is bounded
 * by a full walk every `fullEveryMs`.
 *
 * Synchronous calls, yielding to the event loop every `sliceMs`, as scanOwners.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { ProcessInfoFiles, isOwnProc, lastPidOf, listPids, readProcessInfo, socketInodeOfLink, type MapScan, type OwnerRef, type ProcessRecord } from './owners.js';
import type { FullScan } from './table-reader.js';
import { Slice } from '../yield.js';
import { InodeSet } from '../collect/inode-set.js';
import { statxInoSize, type InoSize } from '../libc.js';

/**
 * The clock is read every this-many-plus-one readlinks (a mask): each is a syscall of ~5-20 µs, so
 * 64 of them are ~1 ms of CPU, several ms on a machine whose cores are busy (512 were 5-10 ms).
 */
const READS_PER_CLOCK = 63;

/** The inodes of every socket in this tick's tables (a Set, or the collector's InodeSet). */
export type LiveInodes = Pick<ReadonlySet<number>, 'has'> & Iterable<number>;

export interface OwnerCacheOptions {
  sliceMs?: number;
  /** Full walk at least this often, whatever the analysis says. */
  fullEveryMs?: number;
  /** Full walks triggered by unexplained sockets happen at most this often. */
  minFullIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /**
   * The open fd count of an fd directory (tests on a fake tree, whose directory sizes are not
   * counts). Default: stat's st_size, which is the count on Linux ≥ 6.2.
   */
  countFds?: (fdDir: string) => number;
  /**
   * Runs a full walk off the main thread (FdWalker's worker threads). When given, full walks go
   * there and seed the cache; null from it (no worker) falls back to walking here.
   */
  fullWalker?: (procRoot: string) => Promise<FullScan | null>;
  /**
   * Read comm and cmdline through descriptors kept open between ticks (ProcessInfoFiles): the
   * live /proc only.
   */
  keepInfoFilesOpen?: boolean;
}

/** What one tick cost, for diagnostics and tests. */
export interface OwnerCacheStats {
  full: boolean;
  fullReason: string | null;
  /** readlink calls this tick. */
  readlinks: number;
  /** fds known after this tick. */
  fdsSeen: number;
  /** readlinks of fds already known (pass 2). */
  reread: number;
  /** fd directories listed this tick. */
  listed: number;
  /** Of those, listed on libuv's threadpool (over LIST_ASYNC_ABOVE_FDS fds). */
  listedAsync: number;
  /** Processes whose new fds were found by probing the free fd numbers instead of listing (pass 2). */
  probed: number;
  /** Processes with more than CHASE_MAX_FDS fds whose moved count pass 2 left to the next tick. */
  deferred: number;
  /** Times this tick the pids were listed from /proc (not kept: the last pid moved, or one vanished). */
  pidLists: number;
  /** Processes pass 1 did not stat: known, holding no socket, at most CHASE_MAX_FDS fds (`walk`). */
  quiet: number;
}

/** A walk's stats before it has done anything (every count 0). */
function freshStats(full: boolean, fullReason: string | null): OwnerCacheStats {
  return { full, fullReason, readlinks: 0, fdsSeen: 0, reread: 0, listed: 0, listedAsync: 0, probed: 0, deferred: 0, pidLists: 0, quiet: 0 };
}

interface PidEntry {
  /**
   * Inode of the /proc/<pid>/fd directory: a new one is a new process (or the kernel dropped and
   * remade that dentry, and the directory is listed again: slower, still right). The same stat gives
   * the fd count, so a tick costs one stat per process.
   */
  dirIno: number;
  /** Sorted fd numbers and, at the same index, the socket inode they link to (0: not a socket). */
  fds: number[];
  inodes: number[];
  /** st_size of /proc/<pid>/fd when it was last listed: the open fd count; -1 when size is not the count. */
  fdCount: number;
  info: Omit<ProcessRecord, 'socketCount'> | null;
  /** Tick at which `info` was read. */
  infoTick: number;
}

type WalkMode = 'full' | 'changed';

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

/** Sorted fd numbers of a directory listing (the kernel lists them in order; fake trees may not). */
function fdNumbers(names: string[]): number[] {
  const out = new Array<number>(names.length);
  let sorted = true;
  let last = -1;
  let n = 0;
  for (const name of names) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 0) continue;
    if (fd < last) sorted = false;
    last = fd;
    out[n++] = fd;
  }
  out.length = n;
  if (!sorted) out.sort((a, b) => a - b);
  return out;
}

/** `fn` for every live inode, yielding when `slice` is due (nothing may add to the set meanwhile). */
async function forEachLive(live: LiveInodes, slice: Slice, fn: (inode: number) => void): Promise<void> {
  if (live instanceof InodeSet) return live.forEachSliced(fn, slice);
  let i = 0;
  for (const inode of live) {
    if ((++i & 4095) === 0) await slice.check();
    fn(inode);
  }
}

/** Whether any of a process's known fds is a socket. */
function holdsSocket(entry: PidEntry): boolean {
  const { inodes } = entry;
  for (let i = 0; i < inodes.length; i++) if (inodes[i] !== 0) return true;
  return false;
}

function compareRefs(a: OwnerRef, b: OwnerRef): number {
  return a.pid - b.pid || a.fd - b.fd;
}

export class OwnerCache {
  /**
   * Pass 2 lists again (for sockets created while pass 1 ran) only processes with at most this many
   * fds; bigger ones wait for the next tick's pass 1. At 1% churn per second on 100k connections
   * the same 16k-fd directories were otherwise listed twice a tick.
   */
  static CHASE_MAX_FDS = 4096;
  /**
   * fd directories with more entries than this (by the count known from stat or last listing) are
   * listed on libuv's threadpool: the kernel takes ~10-20 ms to list 16k fds, and on a loaded
   * machine (1% churn/s at 50k pairs) such sync listings were the largest share of the agent's
   * main-thread samples during /api/health requests over 100 ms. Smaller ones stay sync (cheaper).
   */
  static LIST_ASYNC_ABOVE_FDS = 1024;

  private pids = new Map<number, PidEntry>();
  /** inode → holders sorted by pid then fd. A changed list is a new array, so identity means unchanged. */
  private byInode = new Map<number, OwnerRef[]>();
  /** Inodes whose holder list changed this tick (gained a holder). */
  private gained = new Set<number>();
  /** Live inodes no holder explained at the last check, and since which tick. */
  private unexplainedSince = new Map<number, number>();
  /** Live inodes the last full walk found without any holder. */
  private knownUnowned = new Set<number>();
  private lastFullAt = -Infinity;
  /** Wall time of the last full walk's pass 1. */
  private lastFullCostMs = 0;
  private tick = 0;
  private readonly sliceMs: number;
  private readonly fullEveryMs: number;
  private readonly minFullIntervalMs: number;
  private readonly now: () => number;
  private readonly fullWalker: OwnerCacheOptions['fullWalker'];
  private forceFull: string | null = 'first walk';
  private pidsScanned = 0;
  private pidsDenied = 0;
  private pidsVanished = 0;
  private deniedSample: number[] = [];
  last: OwnerCacheStats = freshStats(true, null);

  constructor(
    private readonly procRoot: string,
    opts: OwnerCacheOptions = {},
  ) {
    this.procDir = procRoot.length > 1 ? procRoot.replace(/\/+$/, '') : procRoot;
    this.sliceMs = opts.sliceMs ?? 15;
    this.fullEveryMs = opts.fullEveryMs ?? 60_000;
    this.minFullIntervalMs = opts.minFullIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.fullWalker = opts.fullWalker;
    this.countFds = opts.countFds;
    if (opts.countFds !== undefined) this.sizeIsCount = true;
    this.infoFiles = opts.keepInfoFilesOpen === true ? new ProcessInfoFiles(this.procDir) : null;
  }

  private readonly infoFiles: ProcessInfoFiles | null;


  private readonly countFds: OwnerCacheOptions['countFds'];
  /** procRoot without a trailing slash. */
  private readonly procDir: string;

  /** `<procRoot>/<pid>/fd`, by concatenation: path.join normalised every path again (~100 KB/s of garbage at 1k). */
  private fdDirPath(pid: number): string {
    return `${this.procDir}/${pid}/fd`;
  }

  /** fdDirOf's answer, refilled by each call (its callers read it at once). */
  private readonly dirStat: InoSize = { ino: 0, size: 0 };

  /**
   * The fd directory's inode and fd count, from one stat: libc's statx where koffi can call it (no
   * Stats object: ~100 KB of garbage a tick with ~70 processes), else statSync. Throws an error
   * with the errno's code, as statSync does.
   */
  private fdDirOf(fdDir: string): InoSize {
    const out = this.dirStat;
    const statx = statxInoSize();
    if (statx instanceof Error) {
      const st = statSync(fdDir);
      out.ino = st.ino;
      out.size = st.size;
    } else {
      const code = statx(fdDir, out);
      if (code !== null) throw Object.assign(new Error(`statx ${fdDir}: ${code}`), { code });
    }
    if (this.countFds !== undefined) out.size = this.countFds(fdDir);
    return out;
  }

  /**
   * Start from a full walk made elsewhere (the cold collection's worker threads): the state a full
   * `walk` would leave, without reading every fd link again on this thread.
   */
  seed(scan: FullScan, reason = 'seeded from a full walk'): void {
    this.tick++;
    this.applyFull(scan, reason, this.now());
  }

  private applyFull(scan: FullScan, reason: string, at: number): void {
    this.pids.clear();
    this.gained.clear();
    let fds = 0;
    for (const t of scan.table) {
      if (this.sizeIsCount === null && t.fds.length > 2) this.sizeIsCount = Math.abs(t.fdSize - t.fds.length) <= 1;
    }
    for (const t of scan.table) {
      const p = scan.processes.get(t.pid);
      const info = p === undefined ? null : { pid: p.pid, program: p.program, cmdline: p.cmdline, uid: p.uid };
      this.pids.set(t.pid, {
        dirIno: t.dirIno,
        fds: t.fds,
        inodes: t.inodes,
        fdCount: this.sizeIsCount === true ? t.fdSize : -1,
        info,
        infoTick: info === null ? -1 : this.tick,
      });
      fds += t.fds.length;
    }
    // The walk's map becomes ours (no copy: 200k entries took ~90 ms on the main thread). Every
    // holder is new after a full walk, but pass 2 already re-reads the holders of every shared
    // socket, which is all that `gained` would add: it stays empty.
    this.byInode = scan.byInode;
    this.holdersVersion++;
    this.pidsScanned = scan.pidsScanned;
    this.pidsDenied = scan.pidsDenied;
    this.pidsVanished = scan.pidsVanished;
    this.deniedSample = scan.deniedSample;
    this.programsVersion++;
    this.lastFullAt = at;
    this.lastFullCostMs = scan.ms;
    this.forceFull = null;
    this.unexplainedSince.clear();
    this.knownUnowned.clear();
    this.last = { ...freshStats(true, reason), readlinks: fds, fdsSeen: fds, listed: scan.table.length };
  }

  /** Make the next walk a full one (tests, or a caller that knows the cache is stale). */
  invalidate(reason: string): void {
    this.forceFull = reason;
  }

  /**
   * Goes up whenever a process's program name may have changed (exec, a process starting or
   * ceasing to hold sockets). Holder lists themselves are replaced, never mutated, when they change.
   */
  programsVersion = 0;

  /** Goes up with every change of any holder list (lists are replaced, never edited: see programsVersion). */
  holdersVersion = 0;

  /** Whether stat(/proc/<pid>/fd).size is the open fd count here; null until seen. */
  private sizeIsCount: boolean | null = null;

  /** Pids whose fd directory must be listed again in this pass, with the fd numbers found closed. */
  private relist = new Map<number, number[]>();
  /** Pids whose new fds were found by `probe` in this pass (listed after all if sockets stay unexplained). */
  private probedPids = new Set<number>();
  /** Pids whose fd directory was listed or probed this tick (pass 1 or 2). */
  private changedPids = new Set<number>();

  /** While `verify` runs: every inode whose holder list changes. */
  private touched: Set<number> | null = null;

  private addHolder(inode: number, ref: OwnerRef): void {
    this.touched?.add(inode);
    this.holdersVersion++;
    const cur = this.byInode.get(inode);
    if (cur === undefined) {
      this.byInode.set(inode, [ref]);
    } else {
      const next = [...cur, ref].sort(compareRefs);
      this.byInode.set(inode, next);
    }
    this.gained.add(inode);
  }

  private removeHolder(inode: number, pid: number, fd: number): void {
    this.touched?.add(inode);
    const cur = this.byInode.get(inode);
    if (cur === undefined) return;
    const next = cur.filter((r) => r.pid !== pid || r.fd !== fd);
    if (next.length === 0) this.byInode.delete(inode);
    else if (next.length !== cur.length) this.byInode.set(inode, next);
    if (next.length !== cur.length) this.holdersVersion++;
  }

  private dropPid(pid: number, entry: PidEntry): void {
    for (let i = 0; i < entry.fds.length; i++) {
      const inode = entry.inodes[i]!;
      if (inode !== 0) this.removeHolder(inode, pid, entry.fds[i]!);
    }
    if (entry.info !== null) this.programsVersion++;
    this.pids.delete(pid);
  }

  /** The socket inode an fd links to; 0: not a socket, or a link we may not read (it is open); null: closed. */
  private readLinkInode(fdDir: string, fd: number): number | null {
    try {
      return socketInodeOfLink(readlinkSync(`${fdDir}/${fd}`)) ?? 0;
    } catch (err) {
      // A process may forbid reading its links (EACCES even for root, e.g. a sandbox's pid 1)
      // while its directory lists: such an fd is open, not closed, or every re-read would call
      // it closed and list its directory again.
      const code = errCode(err);
      return code === 'EACCES' || code === 'EPERM' ? 0 : null; // closed mid-scan
    }
  }

  /**
   * Pass 1: walk the process list and fd listings; readlink new fds (all of them on a full walk).
   * Call before or while the socket tables are read; then call `verify` with their inodes.
   */
  async walk(): Promise<void> {
    this.tick++;
    this.changedPids.clear();
    const now = this.now();
    const full = this.forceFull !== null || now - this.lastFullAt >= this.fullEveryMs;
    const fullReason = this.forceFull ?? (full ? `periodic (every ${this.fullEveryMs} ms)` : null);
    this.forceFull = null;
    if (full && this.fullWalker !== undefined) {
      const scan = await this.fullWalker(this.procRoot);
      if (scan !== null) {
        this.applyFull(scan, fullReason ?? 'full', now);
        return;
      }
    }
    if (full) this.lastFullAt = now;
    this.gained.clear();
    this.last = freshStats(full, fullReason);
    await this.walkPids(full ? 'full' : 'changed', Infinity, !full);
    if (full) this.lastFullCostMs = this.now() - now;
    if (full) {
      this.unexplainedSince.clear();
      this.knownUnowned.clear();
    }
  }

  /**
   * The pids of the last listing, and /proc/loadavg's last pid read just before it; null: list
   * every pass (a tree not of our own pid namespace, or no loadavg).
   */
  private pidList: { lastPid: string; pids: number[] } | null = null;
  private ownProc: boolean | undefined;

  /**
   * The pids under procRoot. Listing /proc every tick was ~0.3 ms of a 1 Hz tick at 1k sockets;
   * while the kernel has given out no pid since the last listing (/proc/loadavg), no process can
   * have appeared, and one that went is found by its fd directory's stat failing (which drops the
   * kept list).
   */
  private currentPids(): number[] {
    this.ownProc ??= isOwnProc(this.procDir);
    // loadavg first: a process that starts between the two reads is listed, and moves it again
    const lastPid = this.ownProc ? lastPidOf(this.procDir) : null;
    if (lastPid !== null && this.pidList !== null && this.pidList.lastPid === lastPid) return this.pidList.pids;
    const pids = listPids(this.procRoot);
    this.last.pidLists++;
    this.pidList = lastPid === null ? null : { lastPid, pids };
    return pids;
  }

  /**
   * One pass over the process list: drop exited pids; list the fd directories of new processes and
   * of those whose fd count moved (every one on a full walk) and readlink fds not seen before.
   *
   * `skipQuiet` (pass 1 of a tick that is not a full walk): a known process that held no socket at
   * its last look, with at most CHASE_MAX_FDS fds, is not stat'ed. Most processes hold none (at 1k
   * sockets here, 5 of 73 held one; the 68 stats were ~0.6 ms of a 1 Hz tick). Nothing depends on
   * pass 1 for them: a socket such a process opens is a live socket no holder explains, and pass 2
   * (verifyInner's chase) then stats every process and lists the ones whose count moved, in the
   * same tick. What it can leave for the next full walk (`fullEveryMs`) is a socket handed to a quiet
   * process (SCM_RIGHTS) while the sender's closed fd number was reused in the same interval, so
   * the socket stays explained by the sender's stale fd: a count that balances hid the same from
   * pass 1 before.
   */
  private async walkPids(mode: WalkMode, deferAboveFds = Infinity, skipQuiet = false): Promise<void> {
    const pids = this.currentPids();
    const present = new Set(pids);
    this.pids.forEach((entry, pid) => {
      if (!present.has(pid)) this.dropPid(pid, entry);
    });

    this.pidsScanned = 0;
    this.pidsDenied = 0;
    this.pidsVanished = 0;
    this.deniedSample = [];
    const slice = new Slice(this.sliceMs);
    for (let i = 0; i < pids.length; i++) {
      const pid = pids[i]!;
      if (slice.due()) await slice.yield(); // no promise per process when not due
      this.pidsScanned++;
      let prev = this.pids.get(pid);
      if (skipQuiet && prev !== undefined && prev.fds.length <= OwnerCache.CHASE_MAX_FDS && !holdsSocket(prev)) {
        this.last.quiet++;
        this.last.fdsSeen += prev.fds.length;
        continue;
      }
      let dirIno: number;
      let size: number;
      try {
        ({ ino: dirIno, size } = this.fdDirOf(this.fdDirPath(pid)));
      } catch (err) {
        this.lost(pid, prev, err);
        continue;
      }
      if (prev !== undefined && (mode === 'full' || prev.dirIno !== dirIno)) {
        this.dropPid(pid, prev);
        prev = undefined;
      }
      if (prev !== undefined && prev.fdCount >= 0 && prev.fdCount === size) {
        this.last.fdsSeen += prev.fds.length;
        continue; // same number of open fds: pass 2 catches what a count cannot
      }
      if (prev !== undefined && prev.fds.length > deferAboveFds) {
        // its count moved since pass 1: the next tick's pass 1 lists it
        this.last.deferred++;
        continue;
      }
      if (!(await this.list(pid, dirIno, size, prev))) continue;
      if (slice.due()) await slice.yield();
    }
    this.refreshInfo();
  }

  /** A process whose directory could not be read: denied (not root) or gone. */
  private lost(pid: number, prev: PidEntry | undefined, err: unknown): void {
    if (prev) this.dropPid(pid, prev);
    const code = errCode(err);
    if (code === 'EACCES' || code === 'EPERM') {
      this.pidsDenied++;
      if (this.deniedSample.length < 5) this.deniedSample.push(pid);
    } else {
      this.pidsVanished++;
      this.pidList = null; // gone: list again, without it
    }
  }

  /** List /proc/<pid>/fd and merge it with what we had: readlink new fd numbers, forget closed ones. */
  private async list(pid: number, dirIno: number, size: number, prev: PidEntry | undefined): Promise<boolean> {
    const fdDir = this.fdDirPath(pid);
    const stats = this.last;
    let names: string[];
    try {
      const big = Math.max(this.sizeIsCount === true ? size : 0, prev?.fds.length ?? 0) > OwnerCache.LIST_ASYNC_ABOVE_FDS;
      names = big ? await readdir(fdDir) : readdirSync(fdDir);
      if (big) stats.listedAsync++;
    } catch (err) {
      this.lost(pid, prev, err);
      return false;
    }
    stats.listed++;
    this.changedPids.add(pid);
    const fds = fdNumbers(names);
    stats.fdsSeen += fds.length;
    const inodes = new Array<number>(fds.length);
    const oldFds = prev?.fds ?? [];
    const oldInodes = prev?.inodes ?? [];
    const slice = new Slice(this.sliceMs);
    // Merge the sorted old and new fd lists.
    let j = 0;
    for (let i = 0; i < fds.length; i++) {
      const fd = fds[i]!;
      while (j < oldFds.length && oldFds[j]! < fd) {
        const gone = oldInodes[j]!;
        if (gone !== 0) this.removeHolder(gone, pid, oldFds[j]!);
        j++;
      }
      if (j < oldFds.length && oldFds[j] === fd) {
        inodes[i] = oldInodes[j]!;
        j++;
        continue;
      }
      if ((++stats.readlinks & READS_PER_CLOCK) === 0) await slice.check();
      const inode = this.readLinkInode(fdDir, fd);
      inodes[i] = inode ?? 0;
      if (inode !== null && inode !== 0) this.addHolder(inode, { pid, fd });
    }
    for (; j < oldFds.length; j++) {
      const gone = oldInodes[j]!;
      if (gone !== 0) this.removeHolder(gone, pid, oldFds[j]!);
    }
    // The size is the fd count on Linux ≥ 6.2; a plain directory's (fake trees, old kernels) is not.
    // Decided once, on the first directory with a few fds (a race may move the count by one).
    if (this.sizeIsCount === null && fds.length > 2) this.sizeIsCount = Math.abs(size - fds.length) <= 1;
    const fdCount = this.sizeIsCount === true ? size : -1;
    this.pids.set(pid, { dirIno, fds, inodes, fdCount, info: prev?.info ?? null, infoTick: prev?.infoTick ?? -1 });
    return true;
  }

  /** Re-read one cached fd; update holders when its link changed, noting the inodes touched. */
  private reread(pid: number, entry: PidEntry, index: number, changed: Set<number>): void {
    const fd = entry.fds[index]!;
    const old = entry.inodes[index]!;
    const link = this.readLinkInode(this.fdDirPath(pid), fd);
    this.last.readlinks++;
    this.last.reread++;
    // A closed fd: the fd set changed in a way the count may hide (another fd opened): list again.
    if (link === null) {
      const closed = this.relist.get(pid);
      if (closed === undefined) this.relist.set(pid, [fd]);
      else closed.push(fd);
    }
    const inode = link ?? 0;
    if (inode === old) return;
    entry.infoTick = -1;
    if (old !== 0) {
      this.removeHolder(old, pid, fd);
      changed.add(old);
    }
    entry.inodes[index] = inode;
    if (inode !== 0) {
      this.addHolder(inode, { pid, fd });
      changed.add(inode);
    }
  }

  /** Re-read a process's fds cached as not sockets (a number may now hold a socket). */
  private async rereadNonSockets(pid: number, entry: PidEntry, changed: Set<number>, slice: Slice): Promise<void> {
    const { inodes } = entry;
    for (let i = 0; i < inodes.length; i++) {
      if (inodes[i] !== 0) continue;
      this.reread(pid, entry, i, changed);
      if ((this.last.readlinks & READS_PER_CLOCK) === 0) await slice.check();
    }
  }

  /** inode → holders (pid, fd), sorted by pid then fd; valid after `walk` (and `verify`). */
  get holders(): ReadonlyMap<number, OwnerRef[]> {
    return this.byInode;
  }

  /** /proc/<pid>/comm of a process holding sockets, null for any other pid. */
  programOf(pid: number): string | null {
    const entry = this.pids.get(pid);
    return entry?.info === null || entry === undefined ? null : entry.info.program;
  }

  /** Read comm/cmdline/uid of processes holding sockets (every tick: exec changes them in place). */
  private refreshInfo(): void {
    // forEach and an indexed loop: this runs once a tick in V8's baseline tier, where for-of
    // allocates an entry array and an iterator result per process and per fd
    this.pids.forEach((entry, pid) => {
      if (entry.infoTick === this.tick) return;
      if (!holdsSocket(entry)) {
        if (entry.info !== null) this.programsVersion++;
        entry.info = null;
        return;
      }
      const info = this.infoFiles !== null ? this.infoFiles.read(pid) : readProcessInfo(this.procRoot, pid);
      if (info.program !== entry.info?.program) this.programsVersion++;
      entry.info = info;
      entry.infoTick = this.tick;
    });
    this.infoFiles?.sweep();
  }

  /**
   * Pass 2, with the inodes of every socket in the tables read this tick (the tables may have been
   * read while pass 1 ran, so they can hold sockets newer than pass 1 saw):
   *  1. re-read fds whose socket is gone (closed, or its fd number reused) and every holder of an
   *     inode that gained a holder (an older holder may have closed and reused its fd);
   *  2. if live sockets remain that no holder explains (and the last full walk did not find them
   *     unowned): walk the fd listings again (new fds since pass 1), then re-read every non-socket
   *     fd and every holder of a shared socket (fd numbers reused without the old socket dying);
   *  3. sockets still unexplained on two ticks in a row schedule a full walk (at most one per
   *     `minFullIntervalMs`).
   * Returns the inodes whose holders changed in this pass: their sockets' owner fields are stale.
   */
  async verify(liveInodes: LiveInodes): Promise<Set<number>> {
    const changed = new Set<number>();
    this.touched = changed;
    try {
      await this.verifyInner(liveInodes, changed);
    } finally {
      this.touched = null;
    }
    return changed;
  }

  private async verifyInner(liveInodes: LiveInodes, changed: Set<number>): Promise<void> {
    this.relist.clear();
    this.probedPids.clear();
    // At 200k sockets every pass below over the live inodes is tens of ms: each gives HTTP a turn.
    const slice = new Slice(this.sliceMs);
    // Dead sockets: their fd was closed or its number reused.
    for (const [pid, entry] of this.pids) {
      if (slice.due()) await slice.yield();
      const { inodes } = entry;
      for (let i = 0; i < inodes.length; i++) {
        const inode = inodes[i]!;
        if (inode === 0 || liveInodes.has(inode)) continue;
        // a churning 16k-fd server has thousands of these a tick: a syscall each
        this.reread(pid, entry, i, changed);
        if ((this.last.readlinks & READS_PER_CLOCK) === 0) await slice.check();
      }
    }
    // Shared sockets: any holder may have closed or reused its fd while the socket lives on.
    const shared: number[] = [];
    // forEach, not for-of: in this async function a for-of over entries allocated an entry array and
    // an iterator result per socket (~140 KB/s at 1k sockets, all garbage for the scavenger)
    this.byInode.forEach((holders, inode) => {
      if (holders.length > 1) shared.push(inode);
    });
    for (const inode of this.gained) shared.push(inode);
    await this.rereadHolders(shared, changed, slice);
    await this.relistPids();

    // One pass over every live inode; after that only the ones still unexplained, plus any whose
    // holders changed since (every holder change in verify lands in `changed`), need a look.
    let unexplained = await this.unexplained(liveInodes, slice);
    const again = async (): Promise<number[]> => {
      const candidates = new Set(unexplained);
      for (const inode of changed) if (liveInodes.has(inode)) candidates.add(inode);
      return (unexplained = await this.unexplained(candidates, slice));
    };
    if (unexplained.length > 0) {
      // Sockets created while pass 1 ran: their process's count has moved since. A process with
      // thousands of fds that keeps opening them (a busy server) would be listed twice every tick:
      // its sockets that came after pass 1 get their owner on the next tick, as with `ss -p`.
      await this.walkPids('changed', OwnerCache.CHASE_MAX_FDS);
      // A probe trusts the fd count; a non-socket fd closed unseen makes it stop one fd short.
      if (this.probedPids.size > 0 && (await again()).length > 0) await this.listProbed();
      // A listing keeps what it knew of fd numbers it saw before: a socket on the number of a
      // non-socket fd closed since is missed. Re-read the non-socket fds of the processes whose fds
      // changed this tick (a few; every process's waits for a socket unexplained two ticks).
      if (this.changedPids.size > 0 && (await again()).length > 0) {
        for (const pid of this.changedPids) {
          const entry = this.pids.get(pid);
          if (entry !== undefined) await this.rereadNonSockets(pid, entry, changed, slice);
        }
        await this.relistPids();
      }
      // A non-socket fd (file, pipe) closed and its number reused for a socket: re-reading every
      // non-socket fd is costly on a machine with many open files, so only for a socket that was
      // already unexplained last tick (most unexplained sockets are gone or found by then).
      if ((await again()).some((inode) => this.unexplainedSince.has(inode))) {
        for (const [pid, entry] of this.pids) await this.rereadNonSockets(pid, entry, changed, slice);
        await this.relistPids();
      }
    }
    if (changed.size > 0) this.refreshInfo();
    const rest = unexplained.length > 0 || changed.size > 0 ? await again() : unexplained;

    if (this.last.full) {
      // What a full walk and the chase above did not find has no fd we can see: known unowned
      // until the next full walk. The chase comes first, as on any tick: a socket opened after
      // the walk listed its process (a CI run showed a new listener without its process) is not.
      for (const inode of rest) this.knownUnowned.add(inode);
      return;
    }
    let persistent = 0;
    const still = new Map<number, number>();
    for (const inode of rest) {
      const since = this.unexplainedSince.get(inode) ?? this.tick;
      still.set(inode, since);
      if (since < this.tick) persistent++;
    }
    this.unexplainedSince = still;
    await slice.check();
    for (const inode of this.knownUnowned) if (!liveInodes.has(inode)) this.knownUnowned.delete(inode);
    // At 200k fds a full walk costs seconds: spend at most ~5% of the time on such walks.
    const spacing = Math.max(this.minFullIntervalMs, 20 * this.lastFullCostMs);
    if (persistent > 0 && this.now() - this.lastFullAt >= spacing) {
      this.forceFull = `${persistent} socket(s) without a known owner for two ticks`;
    }
  }

  /**
   * Processes in which a cached fd turned out closed: their fd set changed in a way the count may
   * hide (others opened meanwhile). Where the count is known, the new fds are looked for where the
   * kernel puts them (`probe`); otherwise, or when that does not add up, the directory is listed.
   */
  private async relistPids(): Promise<void> {
    const pids = [...this.relist];
    this.relist.clear();
    for (const [pid, closed] of pids) await this.listAgain(pid, closed);
  }

  /** Count a known process's fds again and list its directory (probe first when `closed` is given). */
  private async listAgain(pid: number, closed: readonly number[] | null): Promise<void> {
    const prev = this.pids.get(pid);
    if (prev === undefined) return;
    let size: number;
    try {
      size = this.fdDirOf(this.fdDirPath(pid)).size;
    } catch (err) {
      this.lost(pid, prev, err);
      return;
    }
    if (closed !== null && this.sizeIsCount === true && (await this.probe(pid, prev, closed, size))) return;
    await this.list(pid, prev.dirIno, size, prev);
  }

  /** List the fd directories `probe` served this pass. */
  private async listProbed(): Promise<void> {
    const pids = [...this.probedPids];
    this.probedPids.clear();
    for (const pid of pids) await this.listAgain(pid, null);
  }

  /**
   * Find the fds a process opened since its fds were known without listing its directory: the
   * kernel gives a new fd the lowest free number, so new fds fill the numbers just closed and other
   * holes first, then go past the highest. With `count` open fds and `closed` of the known ones gone,
   * `count - (known - closed)` fds are new: readlink the free numbers from 0 up until that many are
   * found. A listing of a 16k-fd directory costs the kernel a dentry per fd; a churning server
   * closes and opens a few dozen between ticks. Gives up (false: list the directory instead) when
   * the numbers do not add up or the new fds are not where expected (dup2 to a high number, a
   * process racing us) within a few probes more than needed. A non-socket fd closed unseen makes
   * the count one short and the probe stop early: a socket it missed stays unexplained, and pass 2
   * then lists the probed directories after all (`listProbed`).
   */
  private async probe(pid: number, entry: PidEntry, closed: readonly number[], count: number): Promise<boolean> {
    const gone = new Set(closed);
    const fds: number[] = [];
    const inodes: number[] = [];
    for (let i = 0; i < entry.fds.length; i++) {
      if (gone.has(entry.fds[i]!)) continue;
      fds.push(entry.fds[i]!);
      inodes.push(entry.inodes[i]!);
    }
    const missing = count - fds.length;
    if (missing < 0) return false;
    const fdDir = this.fdDirPath(pid);
    const found: [number, number][] = [];
    let budget = missing * 2 + 16;
    const slice = new Slice(this.sliceMs);
    for (let n = 0, j = 0; found.length < missing; n++) {
      while (j < fds.length && fds[j]! < n) j++;
      if (j < fds.length && fds[j] === n) continue; // open and known
      if (budget-- <= 0) return false;
      if ((++this.last.readlinks & READS_PER_CLOCK) === 0) await slice.check();
      const inode = this.readLinkInode(fdDir, n);
      if (inode !== null) found.push([n, inode]);
    }
    this.last.probed++;
    this.probedPids.add(pid);
    this.changedPids.add(pid);
    // closed fds left the holders in `reread`; merge the new ones in (both lists are sorted)
    const outFds: number[] = [];
    const outInodes: number[] = [];
    let k = 0;
    for (let i = 0; i <= fds.length; i++) {
      while (k < found.length && (i === fds.length || found[k]![0] < fds[i]!)) {
        const [fd, inode] = found[k++]!;
        outFds.push(fd);
        outInodes.push(inode);
        if (inode !== 0) this.addHolder(inode, { pid, fd });
      }
      if (i < fds.length) {
        outFds.push(fds[i]!);
        outInodes.push(inodes[i]!);
      }
    }
    this.last.fdsSeen += found.length;
    this.pids.set(pid, { ...entry, fds: outFds, inodes: outInodes, fdCount: count, infoTick: -1 });
    return true;
  }

  /** Live inodes with no holder that the last full walk did not already find unowned. */
  private async unexplained(liveInodes: LiveInodes, slice: Slice): Promise<number[]> {
    const out: number[] = [];
    await forEachLive(liveInodes, slice, (inode) => {
      if (!this.byInode.has(inode) && !this.knownUnowned.has(inode)) out.push(inode);
    });
    return out;
  }

  /** Re-read every holder of each inode with more than one holder. */
  private async rereadHolders(inodes: Iterable<number>, changed: Set<number>, slice: Slice): Promise<void> {
    for (const inode of inodes) {
      const holders = this.byInode.get(inode);
      if (holders === undefined || holders.length < 2) continue;
      for (const ref of holders) {
        const entry = this.pids.get(ref.pid);
        if (entry === undefined) continue;
        const idx = entry.fds.indexOf(ref.fd);
        if (idx >= 0) this.reread(ref.pid, entry, idx, changed);
      }
      if (slice.due()) await slice.yield();
    }
  }

  /** The scan result in scanOwners' shape. */
  result(ms: number): MapScan {
    const processes = new Map<number, ProcessRecord>();
    this.pids.forEach((entry, pid) => {
      if (entry.info === null) return;
      let count = 0;
      for (let i = 0; i < entry.inodes.length; i++) if (entry.inodes[i] !== 0) count++;
      if (count > 0) processes.set(pid, { ...entry.info, socketCount: count });
    });
    return {
      byInode: this.byInode,
      processes,
      pidsScanned: this.pidsScanned,
      pidsDenied: this.pidsDenied,
      pidsVanished: this.pidsVanished,
      deniedSample: this.deniedSample,
      ms,
    };
  }
}
