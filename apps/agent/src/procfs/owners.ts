/**
 * Socket ownership (netstat -p / ss -p): socket inode → process, by walking /proc/<pid>/fd.
 *
 * Like ss and netstat, every fd link of every process is read; links of the form `socket:[N]`
 * map inode N to (pid, fd). Processes that exit mid-scan and fd directories we may not read
 * (another user's process when we are not root) are normal and counted, never thrown.
 *
 * The walk uses synchronous calls (several times faster than one promise per readlink at 200k fds)
 * and yields to the event loop every `sliceMs`, so HTTP stays responsive while it runs.
 */
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { yieldToLoop } from '../yield.js';
import type { HolderIndex } from './inode-holders.js';
import { readSourceSync } from './source.js';

export interface OwnerRef {
  pid: number;
  fd: number;
}

export interface ProcessRecord {
  pid: number;
  program: string;
  cmdline: string | null;
  uid: number | null;
  socketCount: number;
}

export interface OwnerScan {
  /** inode → holders, sorted by pid then fd. */
  byInode: HolderIndex;
  /** Processes that hold at least one socket. */
  processes: Map<number, ProcessRecord>;
  pidsScanned: number;
  pidsDenied: number;
  pidsVanished: number;
  /** Denied pids' uids are unknown to us; we keep a few pids for the message. */
  deniedSample: number[];
  ms: number;
}

/** A scan whose holders are a Map (scanOwners, the owner cache: what can be edited and iterated). */
export type MapScan = OwnerScan & { byInode: Map<number, OwnerRef[]> };

const SOCKET_PREFIX = 'socket:[';

/** Parse `socket:[12345]` → 12345; anything else → null. Pure. */
export function socketInodeOfLink(link: string): number | null {
  if (!link.startsWith(SOCKET_PREFIX) || !link.endsWith(']')) return null;
  const digits = link.slice(SOCKET_PREFIX.length, -1);
  if (!/^\d{1,20}$/.test(digits)) return null;
  return Number(digits);
}

/** /proc/<pid>/cmdline → argv joined by spaces (trailing NUL dropped); empty (kernel thread) → null. Pure. */
export function parseCmdline(raw: string): string | null {
  const text = raw.replace(/\0+$/, '').replace(/\0/g, ' ').trim();
  return text === '' ? null : text;
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

export interface ScanOptions {
  /** Yield to the event loop after this much synchronous work. */
  sliceMs?: number;
}

/** The pids under procRoot, ascending ([] when it cannot be listed). */
export function listPids(procRoot: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const e of entries) if (/^\d+$/.test(e)) pids.push(Number(e));
  return pids.sort((a, b) => a - b);
}

/**
 * The pid the kernel gave out last (/proc/loadavg's fifth field), as text; null when it cannot be
 * read. Any new process or thread takes a new pid, so while this stays the same no pid appeared.
 * It counts in the pid namespace of the process reading it: only a procfs of our own namespace
 * (its `self` is our pid, see isOwnProc) can be listed by it.
 */
export function lastPidOf(procRoot: string): string | null {
  // through readSource's files: the live agent keeps /proc/loadavg open, as every /proc file a tick reads
  const read = readSourceSync(procRoot, 'loadavg');
  const m = read.ok ? /\s(\d+)\s*$/.exec(read.text) : null;
  return m === null ? null : m[1]!;
}

/** Whether procRoot is a procfs of this process's own pid namespace (its `self` names our pid). */
export function isOwnProc(procRoot: string, pid = process.pid): boolean {
  try {
    return readlinkSync(`${procRoot}/self`) === String(pid);
  } catch {
    return false;
  }
}

/** Walk every /proc/<pid>/fd under procRoot. Never throws for per-process errors. */
export async function scanOwners(procRoot: string, opts: ScanOptions = {}): Promise<MapScan> {
  const sliceMs = opts.sliceMs ?? 15;
  const started = performance.now();
  const byInode = new Map<number, OwnerRef[]>();
  const processes = new Map<number, ProcessRecord>();
  let pidsScanned = 0;
  let pidsDenied = 0;
  let pidsVanished = 0;
  const deniedSample: number[] = [];

  const pids = listPids(procRoot);

  let sliceStart = performance.now();
  for (const pid of pids) {
    if (performance.now() - sliceStart > sliceMs) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
    pidsScanned++;
    const fdDir = join(procRoot, String(pid), 'fd');
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EACCES' || code === 'EPERM') {
        pidsDenied++;
        if (deniedSample.length < 5) deniedSample.push(pid);
      } else {
        pidsVanished++; // ENOENT/ESRCH: exited between readdir(/proc) and now
      }
      continue;
    }
    let count = 0;
    for (const fdName of fds) {
      let link: string;
      try {
        link = readlinkSync(join(fdDir, fdName));
      } catch {
        continue; // fd closed mid-scan
      }
      const inode = socketInodeOfLink(link);
      // inode 0 is no socket's (the kernel never gives it out); the worker walk and the owner cache skip it too
      if (inode === null || inode === 0) continue;
      count++;
      const ref: OwnerRef = { pid, fd: Number(fdName) };
      const holders = byInode.get(inode);
      if (holders === undefined) byInode.set(inode, [ref]);
      else holders.push(ref);
    }
    if (count > 0) {
      processes.set(pid, { ...readProcessInfo(procRoot, pid), socketCount: count });
    }
  }
  return {
    byInode,
    processes,
    pidsScanned,
    pidsDenied,
    pidsVanished,
    deniedSample,
    ms: performance.now() - started,
  };
}

/** comm, cmdline and owner uid of one process; fields it cannot read are null ('?' for comm). */
export function readProcessInfo(procRoot: string, pid: number): Omit<ProcessRecord, 'socketCount'> {
  const dir = join(procRoot, String(pid));
  let program = '?';
  let cmdline: string | null = null;
  let uid: number | null = null;
  try {
    program = readFileSync(join(dir, 'comm'), 'utf8').replace(/\n$/, '');
  } catch {
    /* exited */
  }
  try {
    cmdline = parseCmdline(readFileSync(join(dir, 'cmdline'), 'utf8'));
  } catch {
    /* exited or hidden */
  }
  try {
    uid = statSync(dir).uid;
  } catch {
    /* exited */
  }
  return { pid, program, cmdline, uid };
}

/**
 * comm, cmdline and owner of the processes that hold sockets, read every tick (exec and
 * setproctitle change them in place) through descriptors kept open: a read from offset 0 makes
 * the kernel produce them afresh, as OpenFiles does for /proc/net. Three syscalls a process (two
 * reads, one fstat) where readProcessInfo made eleven (open, fstat, read, read, close for each
 * file, and a stat): 200 socket-holding processes cost 1.0-1.4% of one core at 1 Hz that way.
 * A short read is the whole file: comm is one record of at most 64 bytes, and cmdline is copied
 * until the buffer is full or the arguments end. Only for the live /proc (a fixture file replaced
 * by a new one would be read stale through the old descriptor); at most `maxOpen` processes.
 */
export class ProcessInfoFiles {
  private readonly open = new Map<number, { comm: number; cmdline: number; used: boolean }>();
  private buf = Buffer.allocUnsafeSlow(4096);

  constructor(
    private readonly procDir: string,
    private readonly maxOpen = 2000,
  ) {}

  /** Descriptors held now (tests). */
  get size(): number {
    return this.open.size;
  }

  read(pid: number): Omit<ProcessRecord, 'socketCount'> {
    let fds = this.open.get(pid);
    if (fds === undefined) {
      if (this.open.size >= this.maxOpen) return readProcessInfo(this.procDir, pid);
      let comm: number;
      try {
        comm = openSync(`${this.procDir}/${pid}/comm`, 'r');
      } catch {
        return { pid, program: '?', cmdline: null, uid: null }; // exited
      }
      let cmdline = -1;
      try {
        cmdline = openSync(`${this.procDir}/${pid}/cmdline`, 'r');
      } catch {
        /* exited or hidden: read as null below */
      }
      fds = { comm, cmdline, used: true };
      this.open.set(pid, fds);
    }
    fds.used = true;
    let program = '?';
    let uid: number | null = null;
    let cmdline: string | null = null;
    try {
      program = this.readAll(fds.comm).replace(/\n$/, '');
      uid = fstatSync(fds.comm).uid;
    } catch {
      // ESRCH: the process exited; its pid is dropped on the next walk
      this.forget(pid);
      return { pid, program, cmdline, uid };
    }
    try {
      if (fds.cmdline >= 0) cmdline = parseCmdline(this.readAll(fds.cmdline));
    } catch {
      /* exited meanwhile */
    }
    return { pid, program, cmdline, uid };
  }

  private readAll(fd: number): string {
    let n = 0;
    for (;;) {
      if (n === this.buf.length) {
        const bigger = Buffer.allocUnsafeSlow(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, n);
        this.buf = bigger;
      }
      const want = this.buf.length - n;
      const r = readSync(fd, this.buf, n, want, n);
      n += r;
      if (r < want) break; // short read: the end (see the class comment)
    }
    const text = this.buf.toString('utf8', 0, n);
    if (this.buf.length > 1 << 16) this.buf = Buffer.allocUnsafeSlow(4096);
    return text;
  }

  /** Close the descriptors of processes not read since the last sweep (exited, or holding no socket now). */
  sweep(): void {
    for (const [pid, fds] of this.open) {
      if (fds.used) fds.used = false;
      else this.forget(pid);
    }
  }

  forget(pid: number): void {
    const fds = this.open.get(pid);
    if (fds === undefined) return;
    this.open.delete(pid);
    for (const fd of [fds.comm, fds.cmdline]) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* closed */
      }
    }
  }

  close(): void {
    for (const pid of [...this.open.keys()]) this.forget(pid);
  }
}
