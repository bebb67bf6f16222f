/**
 * GET /api/connections: the /connections table filtered, sorted and paged on the agent, so a page
 * at 200k sockets receives the ~50 rows it shows instead of a 75 MB snapshot.
 *
 * Query parameters are the page's own URL query (filterToQuery + sortToQuery: proto, show, family,
 * state, port, addr, peer, proc, sort, dir) plus:
 * - `offset` (default 0) and `limit` (default 100, at most CONNECTIONS_MAX_LIMIT): the window of rows;
 * - `id`: also answer `selected` (that socket, live or just closed, its process and its row index);
 * - `seq`: answer from that earlier snapshot instead of the newest (the page's Pause); the agent
 *   holds a few recently served snapshots for PINNED_SNAPSHOT_MS after their last use, and
 *   answers 410 when it no longer has the one asked for;
 * - `format=csv|json`: every matching row (not a window, closed rows left out) as a download, with
 *   the page's own CSV and JSON export (socketsToCsv, socketsToJson).
 * An unknown parameter, or an offset/limit/seq/format/sort/dir that is not valid, is a 400 with a
 * message naming it. A filter the page would flag (a bad port spec, say) is not an error: its
 * problems come back in `problems`, exactly as the page shows them.
 *
 * Rows are the page's rows: the live matching sockets plus those closed in the last
 * CHANGE_HOLD_MS that match (ghosts), in `sortSockets` order when sorted, else the snapshot's
 * order with the ghosts after the live rows.
 */
import type { ProcessInfo, Socket } from '../schema.js';

export const CONNECTIONS_DEFAULT_LIMIT = 100;
export const CONNECTIONS_MAX_LIMIT = 1000;
/** How long a socket flashes as new, and a closed one stays as a ghost (TCPView's few seconds). */
export const CHANGE_HOLD_MS = 4000;
/** How long the agent keeps a served snapshot for `seq=` after its last use. */
export const PINNED_SNAPSHOT_MS = 5 * 60_000;

/** Parameters of GET /api/connections besides the filter and sort ones. */
export const CONNECTIONS_PAGE_PARAMS = ['offset', 'limit', 'id', 'seq', 'format'] as const;
/** The filter and sort parameters (filterToQuery and sortToQuery write only these). */
export const CONNECTIONS_FILTER_PARAMS = ['proto', 'show', 'family', 'state', 'port', 'addr', 'peer', 'proc', 'sort', 'dir'] as const;

export interface ConnectionsPage {
  /** The snapshot the rows come from (send it back as `seq=` to hold it). */
  seq: number;
  /** That snapshot's time, epoch ms: timers count down from it. */
  time: number;
  /** Every socket in the snapshot, filtered or not. */
  total: number;
  /** Live sockets that match the filter. */
  matched: number;
  /** Rows in all: matched plus the ghosts that match (the scroll height). */
  rows: number;
  /** Index of `items[0]` among the rows. */
  offset: number;
  items: Socket[];
  /** Ids among `items` that are ghosts (closed in the last CHANGE_HOLD_MS). */
  closedIds: string[];
  /** Ids among `items` that appeared in the last CHANGE_HOLD_MS. */
  freshIds: string[];
  /** Ghosts matching the filter in all of the rows (not only this window). */
  closedCount: number;
  /** The process of every pid among `items`, by pid. */
  processes: Record<string, ProcessInfo>;
  /** What the filter could not use, as the page shows it (e.g. an unknown service name). */
  problems: string[];
  /** Agent time spent filtering and sorting for this answer (0 when reused), ms. */
  ms: number;
  /** With `id=`: that socket, null when it is neither live nor a recent ghost. */
  selected?: {
    socket: Socket;
    closed: boolean;
    process: ProcessInfo | null;
    /** Its index among the rows, or -1 when the filter hides it. */
    index: number;
  } | null;
}

/** 400/410/503 bodies. */
export interface ConnectionsError {
  error: string;
}
