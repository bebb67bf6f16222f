/**
 * The /connections rows as the agent pages them (GET /api/connections): the page holds the rows
 * in view plus a margin, never the whole table, so 200k sockets cost the browser what 100 do.
 *
 * Plain TypeScript (no Vue): one request at a time; whatever is asked for during one (a tick, a
 * scroll, a new filter) is asked for once when it ends, with the newest wishes. A jump far from
 * the window in flight (End, a scrollbar drag) cancels it instead: on a slow link its answer would
 * hold the rows in view back by one more round trip. Rows of the same snapshot and query are
 * merged across windows, so scrolling back shows what was already loaded.
 */
import { CONNECTIONS_MAX_LIMIT, compareText, type ConnectionsPage, type Socket } from '@netscope/shared';

export interface TableWish {
  /** filterToQuery + sortToQuery: the page's URL query for the table. */
  query: Record<string, string>;
  /** Rows in view, [start, end). */
  start: number;
  end: number;
  /** The open socket (details panel). */
  id: string | null;
  /** Held snapshot (Pause), or null for the newest. */
  seq: number | null;
}

/** Rows fetched beyond each edge of the view: a wheel notch or PgDn lands on loaded rows. */
export const WINDOW_MARGIN = 100;

export function connectionsUrl(query: Record<string, string>, extra: Record<string, string | number | null>): string {
  const p = new URLSearchParams(query);
  for (const [k, v] of Object.entries(extra)) if (v !== null) p.set(k, String(v));
  return `/api/connections?${p.toString()}`;
}

/** The window to ask for around a view: the view plus a margin each side, within the limit. */
export function planWindow(start: number, end: number, margin = WINDOW_MARGIN): { offset: number; limit: number } {
  const offset = Math.max(0, start - margin);
  const limit = Math.min(CONNECTIONS_MAX_LIMIT, Math.max(1, end - offset + margin));
  return { offset, limit };
}

export interface RemoteTableState {
  /** The newest answer (its items are in `rows`). */
  page: ConnectionsPage | null;
  /**
   * Sparse: `rows.length` is the row count, loaded rows are set, the rest are holes. Another
   * window of the same snapshot and query fills the same array (no 200k-slot copy per scroll
   * step), so watch `version`, not the array.
   */
  rows: (Socket | undefined)[];
  /** Bumped on every answer. */
  version: number;
  /** Query key of `rows` (so a new filter never shows the old filter's rows). */
  key: string | null;
  /** The open socket the answer was asked with. */
  id: string | null;
  /** Ghost and new ids among every loaded row (the windows merged). */
  closedIds: ReadonlySet<string>;
  freshIds: ReadonlySet<string>;
  error: string | null;
  /** Status of the last failure (410: the held snapshot is gone). */
  errorStatus: number | null;
  /** Round trip of the last request, ms. */
  fetchMs: number | null;
}

/** `signal` aborts the request (it then rejects; the table ignores that answer). */
export type FetchJson = (url: string, signal?: AbortSignal) => Promise<{ status: number; body: unknown }>;

interface InFlight {
  key: string;
  id: string | null;
  seq: number | null;
  offset: number;
  limit: number;
  abort: AbortController;
}

/** A query's identity, whatever the order of its parameters. */
export const keyOf = (q: Record<string, string>): string => JSON.stringify(Object.entries(q).sort(([a], [b]) => compareText(a, b)));

export class RemoteTable {
  state: RemoteTableState = emptyState();
  private wish: TableWish | null = null;
  /** The request in flight (null: none). */
  private inFlight: InFlight | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly fetchJson: FetchJson,
    private readonly onChange: (s: RemoteTableState) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** New wishes; fetches when what is wanted is not what is held (or `force`: a new tick). */
  want(w: TableWish, force = false): void {
    this.wish = w;
    if (force || !this.covers(w)) this.kick(force);
  }

  stop(): void {
    this.stopped = true;
    this.inFlight?.abort.abort();
  }

  /** Whether the held rows already answer this wish (same query, snapshot, open socket, view loaded). */
  covers(w: TableWish): boolean {
    const { page, rows, key, id } = this.state;
    if (!page || key !== keyOf(w.query) || id !== w.id) return false;
    if (w.seq !== null && page.seq !== w.seq) return false;
    const end = Math.min(w.end, rows.length);
    for (let i = Math.max(0, w.start); i < end; i++) if (rows[i] === undefined) return false;
    return true;
  }

  private kick(force: boolean): void {
    const f = this.inFlight;
    if (f === null) {
      void this.run();
      return;
    }
    if (!force && this.farFrom(f, this.wish!)) {
      // Its answer would not show one row in view: ask for the new window now.
      f.abort.abort();
      this.inFlight = null;
      void this.run();
      return;
    }
    this.again = true;
  }

  /** A scroll of the same query and snapshot whose view shares no row with the window in flight. */
  private farFrom(f: InFlight, w: TableWish): boolean {
    if (f.key !== keyOf(w.query) || f.id !== w.id || f.seq !== w.seq) return false;
    return w.end <= f.offset || w.start >= f.offset + f.limit;
  }

  private async run(): Promise<void> {
    const w = this.wish;
    if (!w || this.stopped) return;
    this.again = false;
    const { offset, limit } = planWindow(w.start, w.end);
    const url = connectionsUrl(w.query, { offset, limit, id: w.id, seq: w.seq });
    const key = keyOf(w.query);
    const mine: InFlight = { key, id: w.id, seq: w.seq, offset, limit, abort: new AbortController() };
    this.inFlight = mine;
    const t0 = this.now();
    try {
      const { status, body } = await this.fetchJson(url, mine.abort.signal);
      if (this.stopped || this.inFlight !== mine) return; // stopped, or cancelled for a later window
      if (status !== 200) {
        const msg = body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : `the agent answered ${status}`;
        this.state = { ...this.state, error: msg, errorStatus: status, fetchMs: this.now() - t0 };
      } else {
        this.accept(body as ConnectionsPage, key, w.id, this.now() - t0);
      }
    } catch (e) {
      if (this.stopped || this.inFlight !== mine) return;
      this.state = { ...this.state, error: `could not reach the agent: ${e instanceof Error ? e.message : String(e)}`, errorStatus: null, fetchMs: null };
    }
    this.inFlight = null;
    this.onChange(this.state);
    if (this.again && !this.stopped) void this.run();
  }

  private accept(page: ConnectionsPage, key: string, id: string | null, fetchMs: number): void {
    const prev = this.state;
    const same = prev.page !== null && prev.key === key && prev.page.seq === page.seq && prev.page.rows === page.rows;
    // Same snapshot and query: add to what the other windows loaded. Otherwise start from holes.
    const rows = same ? prev.rows : new Array<Socket | undefined>(page.rows);
    const closedIds = new Set(same ? prev.closedIds : []);
    const freshIds = new Set(same ? prev.freshIds : []);
    for (let i = 0; i < page.items.length; i++) rows[page.offset + i] = page.items[i];
    for (const c of page.closedIds) closedIds.add(c);
    for (const f of page.freshIds) freshIds.add(f);
    this.state = { page, rows, version: prev.version + 1, key, id, closedIds, freshIds, error: null, errorStatus: null, fetchMs };
  }
}

export function emptyState(): RemoteTableState {
  return { page: null, rows: [], version: 0, key: null, id: null, closedIds: new Set(), freshIds: new Set(), error: null, errorStatus: null, fetchMs: null };
}
