/**
 * Reads the big /proc/net socket tables on a worker thread.
 *
 * The kernel serves /proc/net/tcp one page (~27 lines) per read(2), so a 200k-socket table is
 * ~7,500 reads. `fs.readFile` issues each of them as a thread-pool request whose completion is
 * handled on the main thread: while the main thread walks /proc/<pid>/fd, the read crawls at one
 * page per yield. Here a worker thread does the whole read loop with readSync on its own core and
 * hands back one buffer (transferred, not copied). Same outcome shape as readSource; falls back to
 * it if a worker cannot be started.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { readSource, type ReadOutcome } from './source.js';
import { PieceQueue } from './piece-queue.js';
import { Slice } from '../yield.js';
import { koffiPath } from '../libc.js';
import { InodeHolders } from './inode-holders.js';
import { listPids, readProcessInfo, type MapScan, type OwnerRef, type OwnerScan, type ProcessRecord } from './owners.js';

/** The worker, as source text (the agent ships as one bundled file). Plain JS, no imports but node's. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const CHUNK = 1 << 20;
parentPort.on('message', ({ id, path, chunked }) => {
  let fd = -1;
  try {
    fd = fs.openSync(path, 'r');
    let buf = Buffer.allocUnsafeSlow(chunked ? CHUNK * 2 : 1 << 20);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (chunked && n >= CHUNK) {
        // hand over whole lines as they come, so the main thread builds while we read on
        const nl = buf.lastIndexOf(10, n - 1);
        if (nl >= 0) {
          const part = buf.buffer.slice(buf.byteOffset, buf.byteOffset + nl + 1);
          parentPort.postMessage({ id, chunk: part }, [part]);
          buf.copy(buf, 0, nl + 1, n);
          n -= nl + 1;
        }
      }
    }
    if (chunked) {
      const part = buf.buffer.slice(buf.byteOffset, buf.byteOffset + n);
      parentPort.postMessage({ id, chunk: part, done: true }, [part]);
    } else {
      parentPort.postMessage({ id, ok: true, data: buf.buffer, length: n }, [buf.buffer]);
    }
  } catch (err) {
    parentPort.postMessage({ id, ok: false, code: err.code || 'EIO', message: String(err.message) });
  } finally {
    if (fd >= 0) try { fs.closeSync(fd); } catch {}
  }
});
`;

/** Tables at least this big (at their last read) are read on the worker thread. */
const BIG_TABLE_BYTES = 1 << 20;

type Reply =
  | { id: number; ok: true; data: ArrayBuffer; length: number }
  | { id: number; ok: false; code: string; message: string }
  | { id: number; chunk: ArrayBuffer; done?: boolean };

/** A table read in pieces: `chunks` yields whole lines (the last piece may end without a newline). */
export type StreamOutcome = { ok: true; path: string; chunks: AsyncIterable<string> | Iterable<string> } | Extract<ReadOutcome, { ok: false }>;

export class TableReader {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private pending = new Map<number, (r: Reply) => void>();
  /** Size of each table at its last read, to pick the reading strategy. */
  private sizes = new Map<string, number>();
  /** Streamed reads: the first reply goes to `pending`, later pieces here. */
  private streams = new Map<number, PieceQueue<string>>();

  private start(): Worker | null {
    if (this.worker !== null || this.failed) return this.worker;
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (r: Reply) => {
        // Pieces go straight into their stream's queue, here: several can arrive before the reader
        // of the first one resumes, and none may be lost.
        const queue = this.streams.get(r.id);
        if (queue !== undefined && 'chunk' in r) {
          queue.push(Buffer.from(r.chunk).toString('utf8'), r.done === true);
          if (r.done === true) this.streams.delete(r.id);
        } else if (queue !== undefined) {
          queue.end(); // an error reply to a streamed read
          this.streams.delete(r.id);
        }
        const done = this.pending.get(r.id);
        this.pending.delete(r.id);
        done?.(r);
        if (this.pending.size === 0 && this.streams.size === 0) w.unref();
      });
      w.on('error', () => this.fail());
      w.on('exit', () => this.fail());
      w.unref();
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  /** A dead worker: answer what is pending as failed reads (callers fall back), use readSource from now on. */
  private fail(): void {
    this.failed = true;
    this.worker = null;
    for (const [id, done] of this.pending) done({ id, ok: false, code: 'EWORKER', message: 'reader thread exited' });
    this.pending.clear();
    for (const queue of this.streams.values()) queue.end();
    this.streams.clear();
  }

  /** Read `root/rel` whole. Never throws; same outcomes as readSource. */
  async read(root: string, rel: string): Promise<ReadOutcome> {
    const path = join(root, rel);
    // Small files are read here: the thread costs ~20 MB of RSS, worth it only for megabytes.
    if ((this.sizes.get(path) ?? 0) < BIG_TABLE_BYTES) {
      const whole = await readSource(root, rel);
      if (whole.ok) this.sizes.set(path, whole.text.length);
      return whole;
    }
    const w = this.start();
    if (w === null) return readSource(root, rel);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      w.ref(); // keep the process alive while a read is out (--once)
      w.postMessage({ id, path });
    });
    if ('chunk' in reply) return readSource(root, rel); // not asked for; cannot happen
    if (reply.ok) {
      this.sizes.set(path, reply.length);
      return { ok: true, path, text: Buffer.from(reply.data, 0, reply.length).toString('utf8') };
    }
    if (reply.code === 'EWORKER') return readSource(root, rel);
    if (reply.code === 'ENOENT' || reply.code === 'ENOTDIR') return { ok: false, state: 'missing', message: `${path} does not exist`, path };
    return { ok: false, state: 'unreadable', message: `${path}: ${reply.code} ${reply.message}`, path };
  }

  /**
   * Read `root/rel` in pieces of whole lines, handed over while the rest is still being read, so
   * the caller can parse a 30 MB table while the kernel is still producing it. Never throws.
   */
  async stream(root: string, rel: string): Promise<StreamOutcome> {
    const path = join(root, rel);
    // Small tables (and the first read of each) go through readFile: a worker thread costs ~15 MB
    // of RSS and a message round trip, worth it only for tables of megabytes.
    const w = (this.sizes.get(path) ?? 0) >= BIG_TABLE_BYTES ? this.start() : null;
    if (w === null) {
      const whole = await readSource(root, rel);
      if (!whole.ok) return whole;
      this.sizes.set(path, whole.text.length);
      return { ok: true, path, chunks: [whole.text] };
    }
    const id = this.nextId++;
    const queue = new PieceQueue<string>();
    this.streams.set(id, queue);
    const first = await new Promise<Reply>((resolve) => {
      this.pending.set(id, (r) => resolve(r));
      w.ref();
      w.postMessage({ id, path, chunked: true });
    });
    if ('chunk' in first) {
      // (only small or big matters: more than one piece is big)
      this.sizes.set(path, first.done === true ? first.chunk.byteLength : BIG_TABLE_BYTES);
      return { ok: true, path, chunks: queue };
    }
    if (first.ok) return { ok: true, path, chunks: [Buffer.from(first.data, 0, first.length).toString('utf8')] };
    if (first.code === 'EWORKER') {
      const whole = await readSource(root, rel);
      if (!whole.ok) return whole;
      return { ok: true, path, chunks: [whole.text] };
    }
    if (first.code === 'ENOENT' || first.code === 'ENOTDIR') return { ok: false, state: 'missing', message: `${path} does not exist`, path };
    return { ok: false, state: 'unreadable', message: `${path}: ${first.code} ${first.message}`, path };
  }

  /** Stop the worker (tests; the agent lets it die with the process). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failed = true;
    if (w) await w.terminate();
  }
}

/**
 * The fd walk of scanOwners, as source text for a worker thread (see FdWalker). The workers of one
 * walk share one pid list and take the next pid from a shared counter, so a few big processes do
 * not leave one thread walking while the other idles. Links are read with readlinkat(2) on the fd
 * directory through koffi when it loads (no path walk from / per link, no string or exception per
 * link), else with fs.readlinkSync.
 */
const WALKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const AT_FDCWD = -100, O_RDONLY_DIRECTORY_CLOEXEC = 0o200000 | 0o2000000;
let calls = null; // { openat, readlinkat, close } or null: node's readlinkSync
parentPort.on('message', ({ id, procRoot, pidList, next, koffiPath }) => {
  if (calls === null && typeof koffiPath === 'string') {
    try {
      const lib = require(koffiPath).load('libc.so.6');
      calls = {
        openat: lib.func('int openat(int, const char *, int)'),
        readlinkat: lib.func('long readlinkat(int, const uint8_t *, _Out_ uint8_t *, size_t)'),
        close: lib.func('int close(int)'),
      };
    } catch { calls = false; }
  }
  const name = new Uint8Array(24), link = new Uint8Array(64);
  /** The socket inode of /proc/<pid>/fd/<fd> through the directory's fd: 0 when not a socket or unreadable. */
  const inodeAt = (dfd, fd) => {
    let k = 0;
    if (fd === 0) name[k++] = 48;
    else { for (let v = fd; v > 0; v = Math.floor(v / 10)) name[k++] = 48 + (v % 10); name.subarray(0, k).reverse(); }
    name[k] = 0;
    const r = Number(calls.readlinkat(dfd, name, link, link.length));
    // "socket:[<digits>]"
    if (r < 10 || r >= link.length || link[0] !== 115 || link[6] !== 58 || link[7] !== 91 || link[r - 1] !== 93 || r - 9 > 20) return 0;
    let inode = 0;
    for (let i = 8; i < r - 1; i++) { const c = link[i] - 48; if (c < 0 || c > 9) return 0; inode = inode * 10 + c; }
    // past 15 digits the sum may round differently from Number() of the digits (as readlinkSync's path reads them)
    return r - 9 > 15 ? Number(String.fromCharCode(...link.subarray(8, r - 1))) : inode;
  };
  const inodeOfPath = (path) => {
    let l = null;
    try { l = fs.readlinkSync(path); } catch {}
    if (l === null || !l.startsWith('socket:[') || !l.endsWith(']')) return 0;
    const digits = l.slice(8, -1);
    return /^\\d{1,20}$/.test(digits) ? Number(digits) : 0;
  };
  const counter = new Int32Array(next);
  let cap = 1 << 16;
  let inodes = new Float64Array(cap), pidOf = new Int32Array(cap), fdOf = new Int32Array(cap);
  let n = 0, scanned = 0, denied = 0, vanished = 0;
  const deniedSample = [], holders = [];
  // Every fd of every process (sockets and not), for seeding the incremental owner cache:
  // per pid [pid, fd dir inode, fd dir size, first index, count] and, per fd, its number and socket inode (0: none).
  const table = [];
  let tcap = 1 << 16, tn = 0;
  let allFds = new Int32Array(tcap), allInodes = new Float64Array(tcap);
  for (let at = Atomics.add(counter, 0, 1); at < pidList.length; at = Atomics.add(counter, 0, 1)) {
    const pid = pidList[at];
    scanned++;
    const fdDir = procRoot + '/' + pid + '/fd';
    let names, dirIno, size;
    try {
      const st = fs.statSync(fdDir); // one stat: its inode (a new one is a new process) and its size (the fd count)
      dirIno = st.ino;
      size = st.size;
      names = fs.readdirSync(fdDir);
    } catch (e) {
      if (e.code === 'EACCES' || e.code === 'EPERM') { denied++; if (deniedSample.length < 5) deniedSample.push(pid); } else vanished++;
      continue;
    }
    const fds = [];
    for (const nm of names) { const fd = Number(nm); if (Number.isInteger(fd) && fd >= 0) fds.push(fd); }
    fds.sort((a, b) => a - b);
    table.push(pid, dirIno, size, tn, fds.length);
    const dfd = calls ? calls.openat(AT_FDCWD, fdDir, O_RDONLY_DIRECTORY_CLOEXEC) : -1;
    let count = 0;
    for (const fd of fds) {
      const inode = dfd >= 0 ? inodeAt(dfd, fd) : inodeOfPath(fdDir + '/' + fd);
      if (tn === tcap) {
        tcap *= 2;
        const a = new Int32Array(tcap); a.set(allFds); allFds = a;
        const b = new Float64Array(tcap); b.set(allInodes); allInodes = b;
      }
      allFds[tn] = fd; allInodes[tn] = inode; tn++;
      if (inode === 0) continue;
      if (n === cap) {
        cap *= 2;
        const a = new Float64Array(cap); a.set(inodes); inodes = a;
        const b = new Int32Array(cap); b.set(pidOf); pidOf = b;
        const c = new Int32Array(cap); c.set(fdOf); fdOf = c;
      }
      inodes[n] = inode; pidOf[n] = pid; fdOf[n] = fd; n++; count++;
    }
    if (dfd >= 0) calls.close(dfd);
    if (count > 0) holders.push(pid, count);
  }
  parentPort.postMessage({ id, n, inodes, pidOf, fdOf, scanned, denied, vanished, deniedSample, holders, table, allFds, allInodes, readlinkat: !!calls },
    [inodes.buffer, pidOf.buffer, fdOf.buffer, allFds.buffer, allInodes.buffer]);
});
`;

interface WalkReply {
  id: number;
  n: number;
  inodes: Float64Array;
  pidOf: Int32Array;
  fdOf: Int32Array;
  scanned: number;
  denied: number;
  vanished: number;
  deniedSample: number[];
  /** pid, socket count, pid, socket count, … */
  holders: number[];
  /** pid, dir inode, fd dir size, first index into allFds/allInodes, count; per pid. */
  table: number[];
  allFds: Int32Array;
  allInodes: Float64Array;
  /** Whether koffi loaded and readlinkat read the links. */
  readlinkat: boolean;
}

/** Every fd of one process as a full walk saw it (OwnerCache.seed). */
export interface FdTableEntry {
  pid: number;
  dirIno: number;
  /** st_size of /proc/<pid>/fd (the fd count on Linux ≥ 6.2). */
  fdSize: number;
  /** Sorted fd numbers and, at the same index, the socket inode (0: not a socket, or closed mid-walk). */
  fds: number[];
  inodes: number[];
}

/** A full walk's result with the per-process fd table, to seed the incremental owner cache. */
export type FullScan = MapScan & { table: FdTableEntry[] };

/**
 * A cold, full owner walk (what scanOwners does) on worker threads, so a one-shot collection
 * parses the socket tables on the main thread while the kernel resolves 200k fd links elsewhere.
 * The pids are dealt round-robin to `parts` workers: the readlinks are kernel time on whichever
 * core is free, and a busy server's sockets sit in a few big processes, which one thread would
 * walk one after another. Same result as scanOwners (holders in pid order); null when no worker
 * could be started (the caller walks itself).
 */
export class FdWalker {
  /** How the last walk read the links: through koffi's readlinkat, or node's readlinkSync (no koffi). */
  lastLinks: 'readlinkat' | 'readlinkSync' | null = null;

  /** `links: 'readlinkSync'` skips koffi (tests: both ways give the same walk). */
  constructor(
    private readonly parts = 2,
    private readonly links: 'readlinkat' | 'readlinkSync' = 'readlinkat',
  ) {}

  private walkPart(procRoot: string, pidList: Int32Array, next: SharedArrayBuffer, koffi: string | null): Promise<WalkReply | null> {
    let w: Worker;
    try {
      w = new Worker(WALKER_SOURCE, { eval: true });
    } catch {
      return Promise.resolve(null);
    }
    return new Promise<WalkReply | null>((resolve) => {
      w.once('message', (r: WalkReply) => resolve(r));
      w.once('error', () => resolve(null));
      w.once('exit', () => resolve(null));
      w.postMessage({ id: 1, procRoot, pidList, next, koffiPath: koffi });
    }).finally(() => void w.terminate());
  }

  /** Every fd of every process, on worker threads: the pids, stats and links, or null (no worker). */
  private async run(procRoot: string): Promise<WalkReply[] | null> {
    const pidList = Int32Array.from(listPids(procRoot));
    const next = new SharedArrayBuffer(4);
    const koffi = this.links === 'readlinkat' ? koffiPath() : null;
    const replies = await Promise.all(
      Array.from({ length: this.parts }, () => this.walkPart(procRoot, pidList, next, typeof koffi === 'string' ? koffi : null)),
    );
    if (replies.some((r) => r === null)) return null;
    const all = replies as WalkReply[];
    this.lastLinks = all.every((r) => r.readlinkat) ? 'readlinkat' : 'readlinkSync';
    return all;
  }

  /** What every walk reports besides its holders: the processes holding sockets and the counts. */
  private summary(procRoot: string, all: WalkReply[], started: number): Omit<OwnerScan, 'byInode'> {
    const processes = new Map<number, ProcessRecord>();
    const holders = all.flatMap((r) => {
      const pairs: [number, number][] = [];
      for (let i = 0; i + 1 < r.holders.length; i += 2) pairs.push([r.holders[i]!, r.holders[i + 1]!]);
      return pairs;
    });
    holders.sort((a, b) => a[0] - b[0]);
    for (const [pid, count] of holders) processes.set(pid, { ...readProcessInfo(procRoot, pid), socketCount: count });
    return {
      processes,
      pidsScanned: all.reduce((a, r) => a + r.scanned, 0),
      pidsDenied: all.reduce((a, r) => a + r.denied, 0),
      pidsVanished: all.reduce((a, r) => a + r.vanished, 0),
      deniedSample: all
        .flatMap((r) => r.deniedSample)
        .sort((a, b) => a - b)
        .slice(0, 5),
      ms: performance.now() - started,
    };
  }

  /**
   * A one-shot walk: holders in a compact read-only index (InodeHolders), no per-process fd table.
   * For a collection that looks each socket up once and keeps nothing (`--once`).
   */
  async lookup(procRoot: string): Promise<OwnerScan | null> {
    const started = performance.now();
    const all = await this.run(procRoot);
    if (all === null) return null;
    const byInode = new InodeHolders(all.reduce((a, r) => a + r.n, 0));
    for (const reply of all) {
      const { inodes, pidOf, fdOf } = reply;
      for (let i = 0; i < reply.n; i++) byInode.add(inodes[i]!, pidOf[i]!, fdOf[i]!);
    }
    return { byInode, ...this.summary(procRoot, all, started) };
  }

  /** A walk to seed the owner cache with (OwnerCache.seed): holders as a Map, and every fd of every process. */
  async walk(procRoot: string): Promise<FullScan | null> {
    const started = performance.now();
    const all = await this.run(procRoot);
    if (all === null) return null;
    // Holders of a shared socket in pid order, as one sequential walk lists them.
    const shared = new Set<number>();
    const byInode = new Map<number, OwnerRef[]>();
    // 200k links merge in ~70 ms: a running agent's HTTP gets a turn between slices.
    const slice = new Slice(15);
    for (const reply of all) {
      for (let i = 0; i < reply.n; i++) {
        if ((i & 4095) === 4095) await slice.check();
        const inode = reply.inodes[i]!;
        const ref: OwnerRef = { pid: reply.pidOf[i]!, fd: reply.fdOf[i]! };
        const list = byInode.get(inode);
        if (list === undefined) byInode.set(inode, [ref]);
        else {
          list.push(ref);
          shared.add(inode);
        }
      }
    }
    for (const inode of shared) byInode.get(inode)!.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
    const table: FdTableEntry[] = [];
    for (const r of all) {
      for (let i = 0; i + 4 < r.table.length; i += 5) {
        const start = r.table[i + 3]!;
        const count = r.table[i + 4]!;
        table.push({
          pid: r.table[i]!,
          dirIno: r.table[i + 1]!,
          fdSize: r.table[i + 2]!,
          fds: Array.from(r.allFds.subarray(start, start + count)),
          inodes: Array.from(r.allInodes.subarray(start, start + count)),
        });
      }
    }
    table.sort((a, b) => a.pid - b.pid);
    return { table, byInode, ...this.summary(procRoot, all, started) };
  }
}
