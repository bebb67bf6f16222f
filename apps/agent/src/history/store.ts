/**
 * The embedded store under --data-dir: history points and the alert log survive a restart.
 *
 * LevelDB through classic-level (Level project; prebuilt binaries ship inside the npm package, so
 * installing downloads nothing but the package and compiles nothing). One writer at a time: a
 * second agent on the same data dir gets a clear "in use" error and runs with memory-only history.
 *
 * Keys (sorted as text, so time-ordered with zero-padded epoch ms):
 *   h/<tier>/<t>          → HistoryPoint (JSON)
 *   alog/<at>/<seq>       → AlertEvent (JSON)
 *   alerts/active         → Alert[] (JSON): active at the last write, restored at start-up
 *   services/status       → WatchedServiceStatus[] (JSON): so "down since" survives a restart
 *   meta                  → {format, hostname, procRoot}
 *
 * Writes are buffered and flushed every FLUSH_MS (and on close()): the tick never waits for the
 * disk, and a crash loses at most a few seconds.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Alert, AlertEvent, HistoryPoint, WatchedServiceStatus } from '@netscope/shared';

export { defaultDataDir } from './paths.js';

export const STORE_FORMAT = 1;
export const FLUSH_MS = 5000;
/** Buffered operations that force an early flush. */
export const FLUSH_OPS = 500;

/**
 * LevelDB's defaults (8 MB block cache, 4 MB memtable) are sized for databases that are read
 * often; ours is written one point a second and read once, at start-up. Restoring 48 h of history
 * with the default cache left ~15 MB resident for the agent's lifetime, with these ~6 MB (measured:
 * 8,640 points of 1.1 KB). The memtable is flushed to a table file every ~500 KB instead of 4 MB.
 */
export const STORE_MEMORY = { cacheSize: 256 * 1024, writeBufferSize: 512 * 1024 } as const;

const pad = (t: number): string => String(Math.max(0, Math.floor(t))).padStart(15, '0');
const pointKey = (tier: number, t: number): string => `h/${tier}/${pad(t)}`;

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export interface StoreStats {
  writes: number;
  flushes: number;
  flushErrors: number;
  lastError: string | null;
}

export class HistoryStore {
  private db: ClassicLevel<string, string>;
  private buffer: Op[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private eventSeq = 0;
  stats: StoreStats = { writes: 0, flushes: 0, flushErrors: 0, lastError: null };

  private constructor(
    readonly dir: string,
    db: ClassicLevel<string, string>,
  ) {
    this.db = db;
  }

  /** Open (creating the directory, mode 0700: the data names remote addresses). Throws a readable error. */
  static async open(dataDir: string): Promise<HistoryStore> {
    const dir = join(dataDir, 'store');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`cannot create data dir ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', ...STORE_MEMORY });
    try {
      await db.open();
    } catch (err) {
      const e = err as Error & { code?: string; cause?: Error & { code?: string } };
      const locked = e.code === 'LEVEL_LOCKED' || e.cause?.code === 'LEVEL_LOCKED' || /lock/i.test(`${e.message} ${e.cause?.message ?? ''}`);
      throw new Error(
        locked
          ? `data dir ${dataDir} is in use by another netscope agent: give this one its own --data-dir`
          : `cannot open the store in ${dir}: ${e.cause?.message ?? e.message}`,
      );
    }
    const store = new HistoryStore(dir, db);
    const meta = await store.getJson<{ format: number }>('meta');
    if (meta !== null && meta.format !== STORE_FORMAT) {
      await db.close();
      throw new Error(`the store in ${dir} has format ${meta.format}, this agent reads format ${STORE_FORMAT}: move it away or use another --data-dir`);
    }
    if (meta === null) await db.put('meta', JSON.stringify({ format: STORE_FORMAT }));
    store.timer = setInterval(() => void store.flush(), FLUSH_MS);
    store.timer.unref();
    return store;
  }

  private async getJson<T>(key: string): Promise<T | null> {
    const text = await this.db.get(key);
    if (text === undefined) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }

  private async range<T>(gte: string, lt: string, limit = -1, reverse = false): Promise<T[]> {
    const out: T[] = [];
    for await (const [, value] of this.db.iterator({ gte, lt, limit, reverse })) {
      try {
        out.push(JSON.parse(value) as T);
      } catch {
        /* a damaged value is skipped: history is best effort */
      }
    }
    return out;
  }

  /** Points of one tier with t >= since, oldest first. */
  loadPoints(tier: number, since: number): Promise<HistoryPoint[]> {
    return this.range<HistoryPoint>(pointKey(tier, since), `h/${tier}/~`);
  }

  /** The newest `limit` alert events, newest first. */
  async loadEvents(limit: number): Promise<AlertEvent[]> {
    const events = await this.range<AlertEvent>('alog/', 'alog/~', limit, true);
    this.eventSeq = events.length;
    return events;
  }

  async loadActive(): Promise<Alert[]> {
    return (await this.getJson<Alert[]>('alerts/active')) ?? [];
  }

  private queue(op: Op): void {
    if (this.closed) return;
    this.buffer.push(op);
    if (this.buffer.length >= FLUSH_OPS) void this.flush();
  }

  putPoint(tier: number, p: HistoryPoint): void {
    this.queue({ type: 'put', key: pointKey(tier, p.t), value: JSON.stringify(p) });
  }

  putEvent(e: AlertEvent): void {
    this.queue({ type: 'put', key: `alog/${pad(e.at)}/${String(this.eventSeq++).padStart(9, '0')}`, value: JSON.stringify(e) });
  }

  putActive(active: readonly Alert[]): void {
    this.queue({ type: 'put', key: 'alerts/active', value: JSON.stringify(active) });
  }

  putServices(services: readonly WatchedServiceStatus[]): void {
    this.queue({ type: 'put', key: 'services/status', value: JSON.stringify(services) });
  }

  async loadServices(): Promise<WatchedServiceStatus[]> {
    return (await this.getJson<WatchedServiceStatus[]>('services/status')) ?? [];
  }

  /** Delete points older than `before` in a tier (retention). Runs after the pending writes. */
  prunePoints(tier: number, before: number): Promise<void> {
    return this.serial(() => this.db.clear({ gte: `h/${tier}/`, lt: pointKey(tier, before) }));
  }

  /** Keep only the newest `keep` alert events. */
  pruneEvents(keep: number): Promise<void> {
    return this.serial(async () => {
      const keys: string[] = [];
      for await (const key of this.db.keys({ gte: 'alog/', lt: 'alog/~', reverse: true, limit: keep + 1 })) keys.push(key);
      const oldestKept = keys[keep - 1];
      if (keys.length > keep && oldestKept !== undefined) await this.db.clear({ gte: 'alog/', lt: oldestKept });
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.flushing.then(fn).catch((err: unknown) => {
      this.stats.flushErrors++;
      this.stats.lastError = (err as Error).message;
    });
    this.flushing = next;
    return next;
  }

  /** Write what is buffered. Never throws: failures are counted in stats. */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return this.flushing;
    const ops = this.buffer;
    this.buffer = [];
    return this.serial(async () => {
      await this.db.batch(ops);
      this.stats.writes += ops.length;
      this.stats.flushes++;
    });
  }

  /** Flush and close; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.flushing;
    await this.db.close();
  }
}
