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

/** The worker, as source text (the agent ships as one bundled file). Plain JS, no imports but node's. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, path }) => {
  let fd = -1;
  try {
    fd = fs.openSync(path, 'r');
    let buf = Buffer.allocUnsafeSlow(1 << 20);
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
    }
    parentPort.postMessage({ id, ok: true, data: buf.buffer, length: n }, [buf.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, ok: false, code: err.code || 'EIO', message: String(err.message) });
  } finally {
    if (fd >= 0) try { fs.closeSync(fd); } catch {}
  }
});
`;

type Reply = { id: number; ok: true; data: ArrayBuffer; length: number } | { id: number; ok: false; code: string; message: string };

export class TableReader {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private pending = new Map<number, (r: Reply) => void>();

  private start(): Worker | null {
    if (this.worker !== null || this.failed) return this.worker;
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (r: Reply) => {
        const done = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (this.pending.size === 0) w.unref();
        done?.(r);
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
  }

  /** Read `root/rel` whole. Never throws; same outcomes as readSource. */
  async read(root: string, rel: string): Promise<ReadOutcome> {
    const w = this.start();
    if (w === null) return readSource(root, rel);
    const path = join(root, rel);
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      w.ref(); // keep the process alive while a read is out (--once)
      w.postMessage({ id, path });
    });
    if (reply.ok) return { ok: true, path, text: Buffer.from(reply.data, 0, reply.length).toString('utf8') };
    if (reply.code === 'EWORKER') return readSource(root, rel);
    if (reply.code === 'ENOENT' || reply.code === 'ENOTDIR') return { ok: false, state: 'missing', message: `${path} does not exist`, path };
    return { ok: false, state: 'unreadable', message: `${path}: ${reply.code} ${reply.message}`, path };
  }

  /** Stop the worker (tests; the agent lets it die with the process). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failed = true;
    if (w) await w.terminate();
  }
}
