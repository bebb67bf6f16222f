/**
 * The only I/O of the netlink source: open a NETLINK_SOCK_DIAG socket, send one dump request, read
 * the replies. Node has no netlink sockets, so libc's socket/send/recv are called through koffi (an
 * FFI with prebuilt binaries shipped in the npm package: nothing is compiled at install). Read-only:
 * a dump request changes nothing in the kernel; no privilege is needed (ss runs as any user).
 *
 * Small dumps run on the calling thread (a 2k-socket dump takes about a millisecond). A dump whose
 * last run returned more than WORKER_AFTER_BYTES runs on a worker thread, which hands over batches of
 * whole messages as they come, so the main thread keeps answering HTTP and builds sockets while the
 * kernel is still walking its hash table.
 *
 * Unavailable (no koffi binary for this platform, no libc.so.6, sock_diag not built into the
 * kernel): `available()` says why, and the collector reads /proc/net/tcp instead.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { AF_NETLINK, EINTR, SOCK_CLOEXEC, SOCK_RAW, koffiPath, socketCalls, type SocketCalls } from '../libc.js';
import { PieceQueue } from '../procfs/piece-queue.js';
import { parseSockstat, sockStatOf } from '../procfs/sockstat.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, diagRequest, parseInetDiag, type DiagFamily } from './inet-diag.js';

/** One dump: batches of whole messages (each ends at a message boundary), in kernel order. */
export type DiagOutcome =
  | {
      ok: true;
      path: string;
      batches: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
      /** Bytes the dump is expected to take: the last one's, or /proc/net/sockstat's estimate (0: unknown). */
      expectBytes?: number;
    }
  | { ok: false; path: string; message: string };

const NETLINK_SOCK_DIAG = 4;
/** A dump batch is at most 32 KiB (netlink caps a dump skb there); recv asks for more to never truncate. */
const RECV_BYTES = 64 * 1024;
/** Batches are handed to the main thread in pieces of about this size. */
const PIECE_BYTES = 1 << 20;
/**
 * A dump of a family whose last run returned more than this goes to the worker thread (~32k
 * sockets; a thread costs ~20 MB of RSS, so small machines never start one).
 */
const WORKER_AFTER_BYTES = 4 << 20;
/** Give up on a dump that never ends (a kernel that never sends NLMSG_DONE). */
const MAX_BATCHES = 1 << 16;

export function diagPath(family: DiagFamily): string {
  return `netlink sock_diag ${family === 'both' ? 'AF_INET+AF_INET6' : family === 4 ? 'AF_INET' : 'AF_INET6'} tcp`;
}

/** Bytes a dump of every TCP socket of a family will take, from /proc/net/sockstat{,6}; 0 when unknown. */
export function estimateDumpBytes(family: DiagFamily, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number {
  if (family === 'both') return estimateDumpBytes(4, read) + estimateDumpBytes(6, read);
  try {
    const text = read(family === 4 ? '/proc/net/sockstat' : '/proc/net/sockstat6');
    const tcp = sockStatOf(parseSockstat(text).records)[family === 4 ? 'TCP' : 'TCP6'];
    if (tcp === undefined) return 0;
    // ~124 bytes a socket (72-byte record, netlink header, the attributes the kernel adds)
    return ((tcp.inuse ?? 0) + (tcp.tw ?? 0)) * 124;
  } catch {
    return 0;
  }
}

/** The last message type of a batch of whole messages: DONE/ERROR end the dump. */
function endsDump(buf: Uint8Array, length: number): boolean {
  let off = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, length);
  while (off + NLMSG_HDRLEN <= length) {
    const len = view.getUint32(off, true);
    const type = view.getUint16(off + 4, true);
    if (type === NLMSG_DONE || type === NLMSG_ERROR) return true;
    if (len < NLMSG_HDRLEN) return true; // unframeable: stop reading, the parser reports it
    off += (len + 3) & ~3;
  }
  return false;
}

/**
 * A whole dump on this thread. Throws an Error naming the failing call. `fresh` gives the receive
 * buffers (PIECE_BYTES + RECV_BYTES each): recycled ones, so a tick does not zero-fill and fault in
 * a new megabyte.
 */
function dumpSync(c: SocketCalls, family: DiagFamily, states?: number, fresh: () => Uint8Array = newPiece): Uint8Array[] {
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) throw new Error(`socket(AF_NETLINK, NETLINK_SOCK_DIAG): errno ${c.errno()}`);
  try {
    const req = diagRequest(family, 1, states);
    if (c.send(fd, req, req.length, 0) !== req.length) throw new Error(`send: errno ${c.errno()}`);
    const batches: Uint8Array[] = [];
    let buf = fresh();
    let n = 0;
    for (let i = 0; i < MAX_BATCHES; i++) {
      const r = c.recv(fd, buf.subarray(n), RECV_BYTES, 0);
      if (r < 0) {
        const e = c.errno();
        if (e === EINTR) continue;
        throw new Error(`recv: errno ${e}`);
      }
      if (r === 0) break;
      const done = endsDump(buf.subarray(n), r);
      n += r;
      if (done) break;
      if (n >= PIECE_BYTES) {
        batches.push(buf.subarray(0, n));
        buf = fresh();
        n = 0;
      }
    }
    batches.push(buf.subarray(0, n));
    return batches;
  } finally {
    c.close(fd);
  }
}

const newPiece = (): Uint8Array => new Uint8Array(PIECE_BYTES + RECV_BYTES);

/** null when a dump of `family` that matches no state ends cleanly here; otherwise why not. */
function probeDump(c: SocketCalls, family: DiagFamily, what: string): string | null {
  try {
    const parsed = parseInetDiag(dumpSync(c, family, 0), family === 'both' ? 'both' : family === 4 ? 'tcp' : 'tcp6');
    if (!parsed.done) return `the ${what} did not end (no NLMSG_DONE)`;
    if (parsed.errno !== null) return `the kernel refused the ${what}: errno ${parsed.errno}`;
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The worker: same loop as dumpSync, as source text (the agent ships as one bundled file). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const lib = koffi.load('libc.so.6');
const socket = lib.func('int socket(int, int, int)');
const send = lib.func('long send(int, const void *, size_t, int)');
const recv = lib.func('long recv(int, void *, size_t, int)');
const close = lib.func('int close(int)');
const { PIECE, RECV, MAX } = workerData;
function endsDump(buf, length) {
  const view = new DataView(buf.buffer, buf.byteOffset, length);
  let off = 0;
  while (off + 16 <= length) {
    const len = view.getUint32(off, true), type = view.getUint16(off + 4, true);
    if (type === 3 || type === 2 || len < 16) return true;
    off += (len + 3) & ~3;
  }
  return false;
}
// Buffers the main thread is done with come back (transferred): no 25 MB of fresh memory per dump.
const pool = [];
const fresh = () => { const ab = pool.pop(); return ab !== undefined ? new Uint8Array(ab) : new Uint8Array(PIECE + RECV); };
parentPort.on('message', ({ id, request, recycle }) => {
  if (recycle !== undefined) { for (const ab of recycle) if (pool.length < 64 && ab.byteLength === PIECE + RECV) pool.push(ab); return; }
  const fd = socket(16, 3 | 0o2000000, 4);
  if (fd < 0) { parentPort.postMessage({ id, error: 'socket(AF_NETLINK, NETLINK_SOCK_DIAG): errno ' + koffi.errno() }); return; }
  try {
    const req = new Uint8Array(request);
    if (Number(send(fd, req, req.length, 0)) !== req.length) throw new Error('send: errno ' + koffi.errno());
    let buf = fresh(), n = 0;
    for (let i = 0; i < MAX; i++) {
      const r = Number(recv(fd, buf.subarray(n), RECV, 0));
      if (r < 0) { const e = koffi.errno(); if (e === 4) continue; throw new Error('recv: errno ' + e); }
      if (r === 0) break;
      const done = endsDump(buf.subarray(n), r);
      n += r;
      if (done) break;
      if (n >= PIECE) {
        parentPort.postMessage({ id, batch: buf.buffer, length: n }, [buf.buffer]);
        buf = fresh(); n = 0;
      }
    }
    parentPort.postMessage({ id, batch: buf.buffer, length: n, done: true }, [buf.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  } finally {
    close(fd);
  }
});
`;

type Reply = { id: number; batch: ArrayBuffer; length: number; done?: boolean } | { id: number; error: string };

export class DiagReader {
  private worker: Worker | null = null;
  private workerFailed = false;
  private nextId = 1;
  private queues = new Map<number, PieceQueue<Uint8Array>>();
  private lastBytes = new Map<DiagFamily, number>();
  private probed: string | null | undefined;
  private probedBoth: string | null | undefined;
  /** Probe dumps made (each a netlink socket, a request and a reply): two in a reader's life. */
  probes = 0;
  /** Receive buffers of on-thread dumps whose consumer is through with them. */
  private spare: Uint8Array[] = [];

  constructor(
    /** A family whose last dump returned more bytes than this is dumped on the worker thread. */
    private readonly workerAfterBytes = WORKER_AFTER_BYTES,
  ) {}

  /** null when dumps work here; otherwise why not (checked once, with a dump that matches no state). */
  available(): string | null {
    if (this.probed === undefined) {
      const c = socketCalls();
      if (!(c instanceof Error)) this.probes++;
      this.probed = c instanceof Error ? c.message : probeDump(c, 4, 'sock_diag dump');
    }
    return this.probed;
  }

  /**
   * null when one dump can serve both families here (TCPDIAG_GETSOCK: one walk of the kernel's
   * tables instead of two); otherwise why not. Checked once, the same way.
   */
  bothAvailable(): string | null {
    // `=== undefined`, not `??=`: null (it works) is the answer to keep, not a reason to probe again
    if (this.probedBoth === undefined) {
      const why = this.available();
      if (why === null) this.probes++;
      this.probedBoth = why ?? probeDump(socketCalls() as SocketCalls, 'both', 'two-family sock_diag dump');
    }
    return this.probedBoth;
  }

  private startWorker(): Worker | null {
    if (this.worker !== null || this.workerFailed) return this.worker;
    const path = koffiPath();
    if (path instanceof Error) {
      this.workerFailed = true;
      return null;
    }
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { koffi: path, PIECE: PIECE_BYTES, RECV: RECV_BYTES, MAX: MAX_BATCHES } });
      w.on('message', (r: Reply) => {
        const q = this.queues.get(r.id);
        if (q === undefined) return;
        if ('error' in r) q.end(r.error);
        else q.push(new Uint8Array(r.batch, 0, r.length), r.done === true);
        if ('error' in r || r.done === true) this.queues.delete(r.id);
        if (this.queues.size === 0) w.unref();
      });
      const fail = (): void => {
        this.workerFailed = true;
        this.worker = null;
        for (const q of this.queues.values()) q.end('sock_diag reader thread exited');
        this.queues.clear();
      };
      w.on('error', fail);
      w.on('exit', fail);
      w.unref();
      this.worker = w;
    } catch {
      this.workerFailed = true;
    }
    return this.worker;
  }

  /** Dump every TCP socket of a family, or of both (see bothAvailable). Never throws. */
  dump(family: DiagFamily): DiagOutcome {
    const path = diagPath(family);
    const why = this.available();
    if (why !== null) return { ok: false, path, message: why };
    const c = socketCalls() as SocketCalls;
    // The first dump of a family has no size to go by: /proc/net/sockstat{,6} counts the sockets.
    const last = this.lastBytes.get(family) ?? estimateDumpBytes(family);
    const w = last > this.workerAfterBytes ? this.startWorker() : null;
    if (w === null) {
      try {
        const spare = this.spare;
        const batches = dumpSync(c, family, undefined, () => spare.pop() ?? newPiece());
        this.lastBytes.set(family, batches.reduce((a, b) => a + b.length, 0));
        // The buffers come back once the consumer has read past the last batch (it copies what it
        // keeps); one that stops early leaves them to the GC.
        const recycled: Iterable<Uint8Array> = {
          *[Symbol.iterator]() {
            yield* batches;
            for (const b of batches) if (spare.length < 2) spare.push(new Uint8Array(b.buffer));
          },
        };
        return { ok: true, path, batches: recycled, expectBytes: last };
      } catch (err) {
        return { ok: false, path, message: (err as Error).message };
      }
    }
    const id = this.nextId++;
    const queue = new PieceQueue<Uint8Array>();
    this.queues.set(id, queue);
    w.ref();
    const request = diagRequest(family).buffer as ArrayBuffer;
    w.postMessage({ id, request }, [request]);
    const lastBytes = this.lastBytes;
    const batches: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        const done: ArrayBuffer[] = [];
        let bytes = 0;
        try {
          for await (const b of queue) {
            bytes += b.length;
            yield b;
            // the consumer asks for the next batch only when it is through with this one
            done.push(b.buffer as ArrayBuffer);
          }
        } finally {
          if (done.length > 0) {
            try {
              w.postMessage({ recycle: done }, done);
            } catch {
              /* the thread is gone: nothing to give back */
            }
          }
        }
        lastBytes.set(family, bytes);
        if (queue.error !== null) throw new Error(queue.error);
      },
    };
    return { ok: true, path, batches, expectBytes: last };
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.workerFailed = true;
    if (w) await w.terminate();
  }
}
