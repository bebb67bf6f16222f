/**
 * GET /api/processes, /api/processes/:key, /api/listening and /api/remote: the tables of
 * /processes, /processes/:pid, /listening and /remote, computed here from the newest snapshot so
 * those pages take the summary stream. Each is one pass over the sockets in slices (the event loop
 * keeps answering between them), made only while a page asks. The whole tables (processes,
 * listening, the peer counts) are made once per snapshot and shared by the requests that come
 * while they are being made. /remote can rank 200k peers under a flood: it is searched, sorted
 * and cut to at most REMOTE_MAX_LIMIT rows here, without sorting them all.
 */
import {
  FirstN,
  PROCESS_CONNECTIONS_LIMIT,
  PROCESS_PEERS_LIMIT,
  ProcessTally,
  REMOTE_MAX_LIMIT,
  REMOTE_SCOPES,
  REMOTE_SORT_KEYS,
  RemoteRanker,
  SOCKET_SORT_KEYS,
  addressMatcher,
  addressSortKey,
  heldBy,
  inRemoteScope,
  isListening,
  listeningService,
  peerSummary,
  processKey,
  remoteSortKey,
  scopeOf,
  sortFromQuery,
  sortListening,
  sortSocketsInSteps,
  type AddressScope,
  type ListeningPage,
  type ListeningService,
  type PeerCount,
  type ProcessDetail,
  type ProcessesPage,
  type RemotePage,
  type RemoteScopeFilter,
  type RemoteSortKey,
  type Snapshot,
  type Socket,
  type TcpState,
} from '@netscope/shared';
import { Slice, runInSteps } from '../yield.js';
import { BadRequest, direction, oneOf, oneString, onlyKnown, type Params } from './params.js';


export type ViewAnswer<T> = { status: 200; body: T } | { status: 400 | 503; error: string };

const NO_SNAPSHOT = { status: 503, error: 'no snapshot collected yet' } as const;

const REMOTE_PARAMS = ['q', 'scope', 'sort', 'dir', 'limit'] as const;
const PROCESS_PARAMS = ['sort', 'dir'] as const;
/** Sockets sorted between two turns given to the event loop (a process may hold 100k). */
const SORT_STEP = 20_000;

/** The sockets one at a time, a turn for the event loop every 10 ms. */
const eachSocket = (sockets: readonly Socket[], fn: (s: Socket) => void): Promise<void> => new Slice(10).each(sockets, fn);

interface Made<T> {
  /** What it was made from: the snapshot's sockets (and processes where the table shows them), by identity. */
  from: readonly unknown[];
  value: Promise<{ value: T; ms: number }>;
}

interface RemoteCounts {
  peers: PeerCount[];
  scopes: AddressScope[];
  connections: number;
  synTotal: number;
  /** addressSortKey of each peer, made on the first request sorted by address (building 200k of them took 470 ms). */
  addressKeys: Promise<string[]> | null;
}

export class AggregateViews {
  private processesMade: Made<ProcessesPage['rows']> | null = null;
  private listeningMade: Made<ListeningService[]> | null = null;
  private remoteMade: Made<RemoteCounts> | null = null;

  constructor(private readonly current: () => Snapshot | null) {}

  /**
   * The value of `make` for these inputs: the one made before, or in the making, or a new one. A
   * tick that changed nothing hands on the same sockets array, so the table is not made again.
   */
  private once<T>(made: Made<T> | null, from: readonly unknown[], make: () => Promise<T>, keep: (m: Made<T>) => void): Promise<{ value: T; ms: number; cached: boolean }> {
    if (made !== null && made.from.length === from.length && made.from.every((x, i) => x === from[i])) return made.value.then((v) => ({ ...v, cached: true }));
    const t0 = performance.now();
    const value = make().then((v) => ({ value: v, ms: Math.round((performance.now() - t0) * 10) / 10 }));
    keep({ from, value });
    return value.then((v) => ({ ...v, cached: false }));
  }

  /** A table that takes no parameter and is sent whole (/api/processes, /api/listening). */
  private async whole<T>(path: string, params: Params, made: Made<T[]> | null, keep: (m: Made<T[]>) => void, make: (snap: Snapshot) => Promise<T[]>): Promise<ViewAnswer<{ seq: number; time: number; rows: T[]; ms: number }>> {
    const unknown = Object.keys(params)[0];
    if (unknown !== undefined) return { status: 400, error: `unknown parameter "${unknown.slice(0, 40)}": ${path} takes none` };
    const snap = this.current();
    if (!snap) return NO_SNAPSHOT;
    // The process rows show each process's command line and user: a new process record is a new table.
    const m = await this.once(made, [snap.sockets, snap.processes], () => make(snap), keep);
    return { status: 200, body: { seq: snap.seq, time: snap.time, rows: m.value, ms: m.cached ? 0 : m.ms } };
  }

  processes(params: Params): Promise<ViewAnswer<ProcessesPage>> {
    return this.whole('/api/processes', params, this.processesMade, (m) => (this.processesMade = m), async (snap) => {
      const tally = new ProcessTally(snap.processes);
      await eachSocket(snap.sockets, (s) => tally.add(s));
      return tally.result();
    });
  }

  listening(params: Params): Promise<ViewAnswer<ListeningPage>> {
    return this.whole('/api/listening', params, this.listeningMade, (m) => (this.listeningMade = m), async (snap) => {
      const out: ListeningService[] = [];
      await eachSocket(snap.sockets, (s) => {
        const l = listeningService(s, true);
        if (l !== null) out.push(l);
      });
      return sortListening(out);
    });
  }

  async remote(params: Params): Promise<ViewAnswer<RemotePage>> {
    let q: string;
    let scope: RemoteScopeFilter;
    let sort: RemoteSortKey;
    let dir: 'asc' | 'desc';
    let limit: number;
    try {
      onlyKnown(params, REMOTE_PARAMS);
      q = oneString(params, 'q') ?? '';
      scope = oneOf(params, 'scope', REMOTE_SCOPES, 'any');
      sort = oneOf(params, 'sort', REMOTE_SORT_KEYS, 'total');
      dir = direction(params, sort === 'address' || sort === 'scope' ? 'asc' : 'desc');
      const limitText = oneString(params, 'limit') ?? String(REMOTE_MAX_LIMIT);
      if (!/^\d{1,7}$/.test(limitText) || Number(limitText) > REMOTE_MAX_LIMIT) throw new BadRequest(`limit must be a whole number from 0 to ${REMOTE_MAX_LIMIT}, got "${limitText.slice(0, 40)}"`);
      limit = Number(limitText);
    } catch (e) {
      if (e instanceof BadRequest) return { status: 400, error: e.message };
      throw e;
    }
    const snap = this.current();
    if (!snap) return NO_SNAPSHOT;
    const made = await this.once(
      this.remoteMade,
      [snap.sockets],
      async () => {
        const ranker = new RemoteRanker();
        await eachSocket(snap.sockets, (s) => ranker.add(s));
        // Under a flood every peer is its own address: 200k of them. Count and scope each once
        // here; a request then picks its rows without sorting or summarising them all.
        const peers = ranker.counts();
        const scopes: AddressScope[] = [];
        let connections = 0;
        let synTotal = 0;
        await new Slice(10).each(peers, (p) => {
          scopes.push(scopeOf(p.address));
          connections += p.total;
          synTotal += p.states.SYN_RECV ?? 0;
        });
        return { peers, scopes, connections, synTotal, addressKeys: null };
      },
      (m) => (this.remoteMade = m),
    );
    const t0 = performance.now();
    const counts = made.value;
    const { peers, scopes, connections, synTotal } = counts;
    const slice = new Slice(10);
    let addressKeys: string[] | null = null;
    if (sort === 'address') {
      counts.addressKeys ??= (async () => {
        const keys: string[] = [];
        await slice.each(peers, (p) => keys.push(addressSortKey(p.address)));
        return keys;
      })();
      addressKeys = await counts.addressKeys;
    }
    const keyOf = (i: number): string | number => (addressKeys !== null ? addressKeys[i]! : remoteSortKey(peers[i]!, scopes[i]!, sort));
    const sign = dir === 'asc' ? 1 : -1;
    // Ties: more connections first, then the peer seen first (stable across ticks).
    const top = new FirstN<number>(limit, (a, b) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      if (ka !== kb) return (ka < kb ? -1 : 1) * sign < 0;
      const ta = peers[a]!.total;
      const tb = peers[b]!.total;
      return ta !== tb ? ta > tb : a < b;
    });
    const m = addressMatcher(q);
    let matched = 0;
    for (let i = 0; i < peers.length; i++) {
      if (inRemoteScope(scopes[i]!, scope) && (m === null || m(peers[i]!.address))) {
        matched++;
        top.add(i);
      }
      if ((i & 1023) === 1023 && slice.due()) await slice.yield();
    }
    const rows = top.result().map((i) => peerSummary(peers[i]!, scopes[i]!));
    const ms = Math.round(((made.cached ? 0 : made.ms) + performance.now() - t0) * 10) / 10;
    return {
      status: 200,
      body: { seq: snap.seq, time: snap.time, total: peers.length, connections, synTotal, matched, rows, ms },
    };
  }

  /** One process's page: `key` is a pid, `kernel` or `unseen` (as /processes/:pid names them). */
  async process(key: string, params: Params): Promise<ViewAnswer<ProcessDetail>> {
    const pid = /^\d{1,10}$/.test(key) ? Number(key) : null;
    const unowned = key === 'kernel' || key === 'unseen' ? key : null;
    if (pid === null && unowned === null) return { status: 400, error: `"${key.slice(0, 40)}" is not a pid, "kernel" or "unseen"` };
    let sort: ReturnType<typeof sortFromQuery> = null;
    try {
      onlyKnown(params, PROCESS_PARAMS);
      const key = oneOf(params, 'sort', SOCKET_SORT_KEYS, null);
      const dir = direction(params, 'asc');
      if (key !== null) sort = { key, dir };
    } catch (e) {
      if (e instanceof BadRequest) return { status: 400, error: e.message };
      throw e;
    }
    const snap = this.current();
    if (!snap) return NO_SNAPSHOT;
    const t0 = performance.now();
    const unownedKey = unowned === null ? null : `unowned:${unowned}`;
    const mine = pid !== null ? (s: Socket) => heldBy(s, pid) : (s: Socket) => processKey(s) === unownedKey;
    const listening: Socket[] = [];
    const connections: Socket[] = [];
    const states: Partial<Record<TcpState, number>> = {};
    const peers = new RemoteRanker();
    let program: string | null = null;
    await eachSocket(snap.sockets, (s) => {
      if (!mine(s)) return;
      if (s.proto !== 'unix' && isListening(s)) listening.push(s);
      else connections.push(s);
      if (s.proto === 'tcp' || s.proto === 'tcp6') {
        const st = s.state === 'NEW_SYN_RECV' ? 'SYN_RECV' : s.state;
        states[st] = (states[st] ?? 0) + 1;
      }
      peers.add(s);
      if (program === null && s.pid === pid) program = s.program;
    });
    const ordered = sort !== null ? await runInSteps(sortSocketsInSteps(connections, sort, snap.time, SORT_STEP)) : connections;
    const info = pid !== null ? (snap.processes[String(pid)] ?? null) : null;
    return {
      status: 200,
      body: {
        seq: snap.seq,
        time: snap.time,
        key: pid !== null ? `pid:${pid}` : unownedKey!,
        pid,
        unowned,
        info,
        program: info?.program ?? program,
        total: listening.length + connections.length,
        states,
        listening,
        connections: ordered.slice(0, PROCESS_CONNECTIONS_LIMIT),
        connectionsTotal: connections.length,
        peers: peers.result(PROCESS_PEERS_LIMIT),
        peersTotal: peers.peers,
        ms: Math.round((performance.now() - t0) * 10) / 10,
      },
    };
  }
}
