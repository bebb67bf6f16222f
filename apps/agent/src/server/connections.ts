/**
 * GET /api/connections (contract: packages/shared/src/table/page.ts): the /connections table
 * filtered, sorted and paged here, with the page's own filter, sort and export code, so a page at
 * 200k sockets receives the rows it shows instead of the whole snapshot.
 *
 * - Change marks: while a page has asked in the last ACTIVE_MS, every tick's appeared and closed
 *   sockets go into a ChangeTracker (socketChanges: an identity walk, cheap when little changed).
 *   An agent nobody pages pays nothing, and starts from a clean tracker when paged again.
 * - The filtered and sorted rows are cached by (socket list, ghosts, filter, sort): another window
 *   of the same tick is a slice. Filtering and sorting 200k rows run in steps with a turn for the
 *   event loop between them, and concurrent identical requests share one computation.
 * - `seq=`: the snapshots served lately are held (bounded, PINNED_SNAPSHOT_MS after last use)
 *   with the ghosts of their time, so a paused page can still scroll and export its rows.
 */
import {
  CHANGE_HOLD_MS,
  CONNECTIONS_DEFAULT_LIMIT,
  CONNECTIONS_FILTER_PARAMS,
  CONNECTIONS_MAX_LIMIT,
  CONNECTIONS_PAGE_PARAMS,
  ChangeTracker,
  PINNED_SNAPSHOT_MS,
  compileFilter,
  exportFileName,
  filterFromQuery,
  filterToQuery,
  queryString,
  socketsToCsv,
  socketsToJson,
  sortFromQuery,
  SOCKET_SORT_KEYS,
  sortSocketsInSteps,
  type ConnectionsPage,
  type ProcessInfo,
  type Snapshot,
  type Socket,
  type SortSpec,
} from '@netscope/shared';
import { runInSteps, yieldToLoop } from '../yield.js';
import { BadRequest, direction, oneOf, oneString, onlyKnown, type Params } from './params.js';
import { socketChanges } from './socket-diff.js';

/** A page counts as open this long after its last request. */
export const ACTIVE_MS = 30_000;
/** Snapshots held for `seq=` at most. */
const MAX_PINNED = 4;
/** Row lists cached at most (a few pages, or a page and its pause). */
const MAX_CACHED = 4;
/** Sockets filtered, or sort steps taken, per event-loop turn. */
const STEP = 20_000;

export type ConnectionsAnswer =
  | { status: 200; page: ConnectionsPage }
  | { status: 200; download: { text: string; fileName: string; contentType: string } }
  | { status: 400 | 410 | 503; error: string };


interface Held {
  snap: Snapshot;
  /** Ghosts as they were when this snapshot was newest. */
  ghosts: Socket[];
  ghostsVersion: number;
  usedAt: number;
}

interface RowList {
  sockets: readonly Socket[];
  ghostsVersion: number;
  key: string;
  rows: Socket[];
  matched: number;
  /** Ghost ids among the rows. */
  ghostIds: Set<string>;
  problems: string[];
  ms: number;
}

const ALLOWED = new Set<string>([...CONNECTIONS_PAGE_PARAMS, ...CONNECTIONS_FILTER_PARAMS]);

function wholeNumber(params: Params, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = oneString(params, name);
  if (v === null) return fallback;
  if (!/^\d{1,15}$/.test(v)) throw new BadRequest(`${name} must be a whole number ≥ 0, got "${v.slice(0, 40)}"`);
  const n = Number(v);
  if (n > max) throw new BadRequest(`${name} must be at most ${max}, got ${n}`);
  return n;
}

export class ConnectionsTable {
  private tracker = new ChangeTracker(CHANGE_HOLD_MS);
  private ghostsVersion = 0;
  private lastAskedAt = -Infinity;
  /** Seq of the snapshot the tracker is current with (null: not tracking). */
  private trackedSeq: number | null = null;
  private held = new Map<number, Held>();
  private cache: RowList[] = [];
  private pending = new Map<string, Promise<RowList>>();
  /** The newest snapshot observe() has finished with: its change marks are in the tracker. */
  private latest: Snapshot | null = null;

  constructor(
    private readonly current: () => Snapshot | null,
    private readonly now: () => number = Date.now,
    /** /etc/services name → ports (the collector's), for port filters by service name. */
    private readonly servicePorts: () => ReadonlyMap<string, readonly number[]> | null = () => null,
  ) {}

  /** Every tick, with the tick before it; answers come from `next` once this is done. */
  async observe(next: Snapshot, prev: Snapshot | null): Promise<void> {
    const now = this.now();
    if (now - this.lastAskedAt > ACTIVE_MS) {
      if (this.trackedSeq !== null) {
        this.tracker.clear();
        this.ghostsVersion++;
        this.trackedSeq = null;
        this.cache = [];
      }
      this.latest = next;
      return;
    }
    if (prev && this.trackedSeq === prev.seq && prev.sockets !== next.sockets) {
      const { added, removed } = await socketChanges(prev.sockets, next.sockets);
      this.tracker.note(added, removed, now);
      this.ghostsVersion++;
    } else {
      const before = this.tracker.removed.size;
      this.tracker.prune(now);
      if (this.tracker.removed.size !== before) this.ghostsVersion++;
    }
    this.trackedSeq = next.seq;
    this.latest = next;
  }

  private newest(): Snapshot | null {
    return this.latest ?? this.current();
  }

  /** Answer one request (express's req.query). */
  async query(params: Params): Promise<ConnectionsAnswer> {
    try {
      return await this.answer(params);
    } catch (e) {
      if (e instanceof BadRequest) return { status: 400, error: e.message };
      throw e;
    }
  }

  private async answer(params: Params): Promise<ConnectionsAnswer> {
    onlyKnown(params, ALLOWED);
    const offset = wholeNumber(params, 'offset', 0);
    const limit = wholeNumber(params, 'limit', CONNECTIONS_DEFAULT_LIMIT, CONNECTIONS_MAX_LIMIT);
    const seq = oneString(params, 'seq') === null ? null : wholeNumber(params, 'seq', 0);
    const id = oneString(params, 'id');
    const format = oneString(params, 'format');
    if (format !== null && format !== 'csv' && format !== 'json') throw new BadRequest(`format must be csv or json, got "${format.slice(0, 40)}"`);
    oneOf(params, 'sort', SOCKET_SORT_KEYS, null);
    direction(params, null);
    const query = params as Record<string, string | string[] | undefined>;
    for (const name of CONNECTIONS_FILTER_PARAMS) {
      const v = query[name];
      if (Array.isArray(v) && v.some((x) => typeof x !== 'string')) throw new BadRequest(`${name} must be text`);
      if (v !== undefined && !Array.isArray(v) && typeof v !== 'string') throw new BadRequest(`${name} must be text`);
    }

    const now = this.now();
    const wasActive = now - this.lastAskedAt <= ACTIVE_MS;
    this.lastAskedAt = now;
    this.evict(now);

    let held: Held;
    if (seq === null) {
      const snap = this.newest();
      if (!snap) return { status: 503, error: 'no snapshot collected yet' };
      if (!wasActive || this.trackedSeq === null) this.trackedSeq = snap.seq; // start marking changes from here
      held = this.hold(snap, now);
    } else {
      const h = this.held.get(seq);
      if (!h) {
        const newest = this.newest();
        if (newest && newest.seq === seq) held = this.hold(newest, now);
        else return { status: 410, error: `snapshot ${seq} is no longer held (the agent keeps the last ${MAX_PINNED} served for ${PINNED_SNAPSHOT_MS / 60_000} min after their last use)` };
      } else {
        h.usedAt = now;
        held = h;
      }
    }

    const filter = filterFromQuery(query);
    const sort = sortFromQuery(queryString(query, 'sort'), queryString(query, 'dir'));
    const snap = held.snap;

    if (format !== null) {
      const list = await this.rowList(held, filter, sort, false);
      const live = list.rows;
      const fileName = exportFileName(snap.host.hostname, 'connections', format);
      const text =
        format === 'csv'
          ? socketsToCsv(live, snap.time)
          : socketsToJson(live, { host: snap.host.hostname, time: snap.time, seq: snap.seq, filter: filterToQuery(filter) });
      return { status: 200, download: { text, fileName, contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8' } };
    }

    const list = await this.rowList(held, filter, sort, true);
    const items = list.rows.slice(offset, offset + limit);
    const processes: Record<string, ProcessInfo> = {};
    const closedIds: string[] = [];
    const freshIds: string[] = [];
    const isCurrent = held.snap === this.newest();
    for (const s of items) {
      if (s.pid !== null) {
        const p = snap.processes[String(s.pid)];
        if (p) processes[String(s.pid)] = p;
      }
      if (list.ghostIds.has(s.id)) closedIds.push(s.id);
      else if (isCurrent && this.tracker.isNew(s.id, now)) freshIds.push(s.id);
    }
    const page: ConnectionsPage = {
      seq: snap.seq,
      time: snap.time,
      total: snap.sockets.length,
      matched: list.matched,
      rows: list.rows.length,
      offset,
      items,
      closedIds,
      freshIds,
      closedCount: list.ghostIds.size,
      processes,
      problems: list.problems,
      ms: list.ms,
    };
    if (id !== null) page.selected = this.select(id, held, list);
    return { status: 200, page };
  }

  private select(id: string, held: Held, list: RowList): ConnectionsPage['selected'] {
    const live = held.snap.sockets.find((s) => s.id === id);
    const ghost = live ? undefined : held.ghosts.find((s) => s.id === id);
    const socket = live ?? ghost;
    if (!socket) return null;
    const process = socket.pid === null ? null : (held.snap.processes[String(socket.pid)] ?? null);
    return { socket, closed: live === undefined, process, index: list.rows.indexOf(socket) };
  }

  /** Keep a served snapshot for `seq=`, with the ghosts of its time. */
  private hold(snap: Snapshot, now: number): Held {
    const had = this.held.get(snap.seq);
    if (had && had.snap === snap && had.ghostsVersion === this.ghostsVersion) {
      had.usedAt = now;
      return had;
    }
    const ghosts = this.trackedSeq === snap.seq ? this.tracker.ghosts().map((g) => g.socket) : (had?.ghosts ?? []);
    const h: Held = { snap, ghosts, ghostsVersion: this.trackedSeq === snap.seq ? this.ghostsVersion : (had?.ghostsVersion ?? -1), usedAt: now };
    this.held.set(snap.seq, h);
    return h;
  }

  private evict(now: number): void {
    for (const [seq, h] of this.held) if (now - h.usedAt > PINNED_SNAPSHOT_MS) this.held.delete(seq);
    while (this.held.size > MAX_PINNED) {
      let oldest: number | null = null;
      for (const [seq, h] of this.held) if (oldest === null || h.usedAt < this.held.get(oldest)!.usedAt) oldest = seq;
      this.held.delete(oldest!);
    }
  }

  /** The rows of a filter and sort on a held snapshot: cached, or computed in steps (shared while in flight). */
  private rowList(held: Held, filter: ReturnType<typeof filterFromQuery>, sort: SortSpec | null, withGhosts: boolean): Promise<RowList> {
    const key = `${JSON.stringify(filterToQuery(filter))} ${sort ? `${sort.key} ${sort.dir}` : ''} ${withGhosts ? 'g' : 'live'}`;
    const ghostsVersion = withGhosts ? held.ghostsVersion : -1;
    const hit = this.cache.find((c) => c.sockets === held.snap.sockets && c.key === key && c.ghostsVersion === ghostsVersion);
    if (hit) return Promise.resolve({ ...hit, ms: 0 });
    const flightKey = `${held.snap.seq} ${ghostsVersion} ${key}`;
    const flying = this.pending.get(flightKey);
    if (flying) return flying;
    const job = this.compute(held, filter, sort, withGhosts, key, ghostsVersion).finally(() => this.pending.delete(flightKey));
    this.pending.set(flightKey, job);
    return job;
  }

  private async compute(held: Held, filter: ReturnType<typeof filterFromQuery>, sort: SortSpec | null, withGhosts: boolean, key: string, ghostsVersion: number): Promise<RowList> {
    const t0 = performance.now();
    const { snap } = held;
    const compiled = compileFilter(filter, { processes: snap.processes, servicePorts: this.servicePorts() });
    const live: Socket[] = [];
    const sockets = snap.sockets;
    for (let at = 0; at < sockets.length; at += STEP) {
      if (at > 0) await yieldToLoop();
      const end = Math.min(sockets.length, at + STEP);
      for (let i = at; i < end; i++) if (compiled.test(sockets[i]!)) live.push(sockets[i]!);
    }
    const ghostIds = new Set<string>();
    let all = live;
    if (withGhosts && held.ghosts.length > 0) {
      // A closed socket that comes back is no longer a ghost (ChangeTracker.note), so no id is both.
      const ghosts = held.ghosts.filter((g) => compiled.test(g));
      for (const g of ghosts) ghostIds.add(g.id);
      all = live.concat(ghosts);
    }
    const rows = sort ? await runInSteps(sortSocketsInSteps(all, sort, snap.time, STEP)) : all;
    const list: RowList = { sockets, ghostsVersion, key, rows, matched: live.length, ghostIds, problems: compiled.problems, ms: Math.round((performance.now() - t0) * 10) / 10 };
    this.cache.push(list);
    if (this.cache.length > MAX_CACHED) this.cache.shift();
    return list;
  }
}
