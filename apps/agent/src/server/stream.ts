/**
 * /ws: hello + snapshot on connect, then one delta per tick. Each tick's delta is serialised once
 * and sent as the same string to every client in sync.
 *
 * Backpressure (ws has no drain event, so we watch bufferedAmount): a client whose send buffer is
 * past HIGH_WATER skips deltas and is marked behind; once its buffer drains below LOW_WATER it gets
 * a fresh full snapshot. A client behind for longer than MAX_BEHIND_MS is told `bye` and dropped.
 * Heartbeat: ping every HEARTBEAT_MS; no pong by the next ping → terminate.
 *
 * Each connection has a view (`/ws?view=full|summary`) and an aggregates form (`whole|patch`): a
 * tick serialises one text per combination in use, the changed sockets once for all of them.
 * Texts go out as Buffers (one conversion for every client) and compressed per connection when
 * the client negotiated permessage-deflate (STREAM_DEFLATE).
 */
import { randomUUID } from 'node:crypto';
import { WebSocket, type PerMessageDeflateOptions } from 'ws';
import {
  PROTOCOL_VERSION,
  diffSnapshots,
  parseClientMessage,
  toPatchForm,
  type AggregatesForm,
  type ByeMessage,
  type DeltaMessage,
  type HelloMessage,
  type ServerMessage,
  type Snapshot,
  type SnapshotMessage,
  type StreamOptions as ConnectionOptions,
  type StreamView,
} from '@netscope/shared';
import { Slice, yieldToLoop } from '../yield.js';
import { socketChanges } from './socket-diff.js';

/**
 * permessage-deflate for /ws (browsers negotiate it). Deflate with context takeover sees each
 * delta next to the last ones, so the per-tick constant and each changed socket cost a few tens
 * of bytes on the wire (BENCHMARKS.md). Level 3 is zlib's fast path: ~340 MB/s against ~75 MB/s
 * at the default 6 (a 2 MB snapshot: 6 ms vs 27 ms) for a ratio of ~15× instead of ~18×; in the
 * agent at 200k sockets a 74 MB first snapshot went out as 6.4 MB for ~0.6 s of CPU per client,
 * peak RSS as without deflate. Compression runs on libuv's threadpool in 64 KiB output steps, so the event loop only
 * collects chunks; at most two messages are compressed at once (two of the pool's four threads,
 * leaving the rest to fs), and each connection holds one zlib context (~300 KB).
 * threshold 0: a delta too small to shrink alone still shrinks against the previous ones.
 */
export const STREAM_DEFLATE: PerMessageDeflateOptions = {
  threshold: 0,
  concurrencyLimit: 2,
  zlibDeflateOptions: { level: 3, chunkSize: 64 * 1024 },
};

export const DEFAULT_CONNECTION: ConnectionOptions = { view: 'full', aggregates: 'whole' };

export interface StreamOptions {
  agentVersion: string;
  intervalMs: number;
  highWaterBytes?: number;
  lowWaterBytes?: number;
  maxBehindMs?: number;
  heartbeatMs?: number;
  /**
   * Told the size of a snapshot message the hub no longer holds, once its last send is written:
   * 80 MB at 200k sockets, in V8's old generation by then (serialising it spans several GCs) and
   * so kept until the next full GC unless the caller runs one (main.ts: heap.ts decides).
   */
  released?: (bytes: number) => void;
}

/** A serialised snapshot message, and how many sends of it are not yet written. */
interface PreparedSnapshot {
  seq: number;
  data: Buffer;
  sending: number;
  /** `released` was called for it. */
  released?: boolean;
}

interface ClientState {
  ws: WebSocket;
  /** Seq the client holds; null until its first snapshot is out. */
  seq: number | null;
  behindSince: number | null;
  alive: boolean;
  address: string;
  view: StreamView;
  aggregates: AggregatesForm;
  /**
   * Bytes of the last full snapshot still allowed in the send buffer: at 200k sockets a snapshot is
   * ~75 MB, far past HIGH_WATER, and a client still reading it is not behind. It shrinks as the
   * buffer drains; deltas queue behind it, and only HIGH_WATER more than it makes a client behind.
   */
  allowance: number;
}

export type FormKey = `${StreamView}/${AggregatesForm}`;
const formKey = (c: { view: StreamView; aggregates: AggregatesForm }): FormKey => `${c.view}/${c.aggregates}`;
const NO_SOCKETS: DeltaMessage['sockets'] = { added: [], changed: [], removed: [] };
const EMPTY = Buffer.alloc(0);

/** Sockets serialised per event-loop turn at most (~10-20 ms of work on a quiet machine). */
const SLICE = 5000;

/**
 * JSON.stringify(value) where the big arrays (sockets) are serialised a slice per event-loop turn:
 * 100k sockets are ~40 MB of JSON, several hundred ms in one call. Each array is stood in for by a
 * random marker string in the skeleton; the text is handed to `emit` piece by piece: the skeleton
 * up to a marker, each item's JSON (item by item: a slice joined first was a 2 MB string each),
 * and the rest of the skeleton.
 */
async function emitSliced(
  skeleton: (marker: (i: number) => string) => unknown,
  arrays: readonly (readonly unknown[])[],
  emit: (text: string) => void,
  onSkeleton?: (text: string) => void,
): Promise<void> {
  const slice = new Slice(15);
  const nonce = randomUUID();
  const marker = (i: number): string => `netscope-slice-${nonce}-${i}`;
  let rest = JSON.stringify(skeleton(marker));
  onSkeleton?.(rest);
  for (let i = 0; i < arrays.length; i++) {
    const quoted = `"${marker(i)}"`;
    const at = rest.indexOf(quoted);
    if (at < 0) throw new Error(`serialise: array ${i} is not in the skeleton after array ${i - 1}`);
    emit(`${rest.slice(0, at)}[`);
    rest = rest.slice(at + quoted.length);
    const items = arrays[i]!;
    for (let n = 0; n < items.length; n++) {
      // every SLICE items, or sooner when the clock says so (a loaded machine runs them slower)
      if (n > 0 && (n % SLICE === 0 || ((n & 255) === 0 && slice.due()))) await slice.yield();
      if (n > 0) emit(',');
      emit(JSON.stringify(items[n]));
    }
    emit(']');
    await yieldToLoop();
  }
  emit(rest);
}

/**
 * diffSnapshots(prev, next), with the socket comparison (100k sameSocket calls) done a slice per
 * event-loop turn (socketChanges). Everything but the sockets comes from diffSnapshots itself;
 * the socket comparison uses the same sameSocket, so the two cannot disagree (the unit test checks it).
 */
export async function diffSliced(prev: Snapshot, next: Snapshot): Promise<DeltaMessage> {
  const delta = diffSnapshots({ ...prev, sockets: [] }, { ...next, sockets: [] });
  const { added, changed, removed } = await socketChanges(prev.sockets, next.sockets);
  delta.sockets = { added, changed, removed: removed.map((s) => s.id) };
  return delta;
}

/** Items of an array serialised up front to size the message's buffer. */
const SAMPLE_ITEMS = 256;

/**
 * Bytes of `items` as a JSON array: the mean UTF-8 length of up to SAMPLE_ITEMS items spread over
 * the array, times its length, plus the commas and 2% room.
 */
export function estimateArrayBytes(items: readonly unknown[]): number {
  const n = items.length;
  if (n === 0) return 2;
  const k = Math.min(n, SAMPLE_ITEMS);
  let sampled = 0;
  for (let j = 0; j < k; j++) sampled += Buffer.byteLength(JSON.stringify(items[Math.floor((j * n) / k)]) ?? 'null');
  return Math.ceil((sampled / k) * n * 1.02) + n + 2;
}

/**
 * emitSliced's text straight into UTF-8 bytes: written into one buffer sized from the skeleton and
 * a sample of the items (grown by half when short), so the message's bytes exist once. At 200k
 * sockets (75 MB of JSON) the string route held the slices, their join, the spliced message and
 * then its bytes for ws at once: RSS went from ~400 to ~790 MB when a dashboard connected. A fixed
 * 400 B per item made a churn delta at 100k pairs (135k items, 30 MB) a 54 MB buffer and then a
 * 30 MB copy of its used part, both left for the next full GC.
 */
async function serialiseSlicedBytes(skeleton: (marker: (i: number) => string) => unknown, arrays: readonly (readonly unknown[])[]): Promise<Buffer> {
  let buf = EMPTY;
  let len = 0;
  await emitSliced(
    skeleton,
    arrays,
    (text) => {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact count only when room may run short.
      const need = len + text.length * 3 > buf.length ? len + Buffer.byteLength(text) : 0;
      if (need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need, Math.ceil(buf.length * 1.5)));
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      len += buf.write(text, len);
    },
    (rest) => {
      buf = Buffer.allocUnsafe(arrays.reduce((n, a) => n + estimateArrayBytes(a), Buffer.byteLength(rest)));
    },
  );
  // A copy when much of the room was not used (the estimate was far off), else a view of it.
  return len < buf.length * 0.8 ? Buffer.from(buf.subarray(0, len)) : buf.subarray(0, len);
}

/** A snapshot message as UTF-8 JSON, serialised in slices. */
export function serialiseSnapshot(snap: Snapshot): Promise<Buffer> {
  return serialiseSlicedBytes(
    (m) => ({ type: 'snapshot', v: PROTOCOL_VERSION, seq: snap.seq, snapshot: { ...snap, sockets: m(0) } }),
    [snap.sockets],
  );
}

/** A bare snapshot (GET /api/snapshot), serialised the same way. */
export function serialiseSnapshotBody(snap: Snapshot): Promise<Buffer> {
  return serialiseSlicedBytes((m) => ({ ...snap, sockets: m(0) }), [snap.sockets]);
}

/**
 * A delta message as UTF-8 JSON, its three socket lists serialised in slices straight into the one
 * buffer of the message. At 100k pairs under 1% churn/s a delta is ~27 MB of JSON: joined as a
 * string, spliced into the message and converted to bytes, that was three single calls of tens of
 * ms each, and then copying the lists' bytes into each form's message (Buffer.concat) was the top
 * of the agent's CPU profile during slow /api/health requests at 100k: nothing is copied whole now.
 */
function serialiseDeltaMessage(msg: DeltaMessage, sockets: DeltaMessage['sockets']): Promise<Buffer> {
  return serialiseSlicedBytes(
    (m) => ({ ...msg, sockets: { added: m(0), changed: m(1), removed: m(2) } }),
    [sockets.added, sockets.changed, sockets.removed],
  );
}

export function serialiseDelta(delta: DeltaMessage): Promise<Buffer> {
  return serialiseDeltaMessage(delta, delta.sockets);
}

/** A snapshot as the summary view streams it: no sockets, all else as is. */
export function summarySnapshot(snap: Snapshot): Snapshot {
  return { ...snap, sockets: [] };
}

/**
 * The bytes of one tick's delta for each form in `forms`. Sockets are diffed (in slices) once,
 * and only when a full view wants them, and serialised into each full form's message; the summary
 * view gets the same message with no socket changes.
 */
export async function serialiseDeltaForms(prev: Snapshot, next: Snapshot, forms: ReadonlySet<FormKey>): Promise<Map<FormKey, Buffer>> {
  const keys = [...forms];
  const full = keys.some((k) => k.startsWith('full/'));
  const whole = full ? await diffSliced(prev, next) : diffSnapshots(summarySnapshot(prev), summarySnapshot(next));
  const patched = keys.some((k) => k.endsWith('/patch')) ? toPatchForm(whole, prev, next) : null;
  const out = new Map<FormKey, Buffer>();
  for (const key of keys) {
    const msg = key.endsWith('/patch') ? patched! : whole;
    // a full form serialises the socket lists itself (both full forms at once are rare: twice then)
    out.set(key, key.startsWith('summary/') ? Buffer.from(JSON.stringify({ ...msg, sockets: NO_SOCKETS })) : await serialiseDeltaMessage(msg, whole.sockets));
  }
  return out;
}

/** The same texts, built in one go (a client that came into step while the tick was prepared). */
export function deltaTextNow(prev: Snapshot, next: Snapshot, view: StreamView, form: AggregatesForm): string {
  const [a, b] = view === 'summary' ? [summarySnapshot(prev), summarySnapshot(next)] : [prev, next];
  return JSON.stringify(diffSnapshots(a, b, form));
}

export class StreamHub {
  private clients = new Set<ClientState>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly high: number;
  private readonly low: number;
  private readonly maxBehindMs: number;
  /**
   * Serialisation of the current snapshot per view, keyed by seq (a Buffer: converted once for
   * every client joining together), kept until its sends are written or the next tick comes.
   */
  private snapshotCache = new Map<StreamView, PreparedSnapshot>();
  /** A snapshot being serialised per view, so concurrent requests for the same seq share the work. */
  private preparing = new Map<StreamView, { seq: number; done: Promise<PreparedSnapshot> }>();
  /** dropped: told `bye` (slow consumer); timedOut: terminated for not answering pings. */
  stats = { deltasSent: 0, snapshotsSent: 0, deltasSkipped: 0, dropped: 0, timedOut: 0 };

  constructor(
    private readonly current: () => Snapshot | null,
    private readonly opts: StreamOptions,
  ) {
    this.high = opts.highWaterBytes ?? 4 * 1024 * 1024;
    this.low = opts.lowWaterBytes ?? 256 * 1024;
    this.maxBehindMs = opts.maxBehindMs ?? 30_000;
    const every = opts.heartbeatMs ?? 15_000;
    this.heartbeat = setInterval(() => this.beat(), every);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Bytes waiting in our send buffers (ws + socket): in all, and for the worst client. */
  get buffered(): { bufferedBytes: number; maxClientBufferedBytes: number } {
    let total = 0;
    let max = 0;
    for (const c of this.clients) {
      const b = c.ws.bufferedAmount;
      total += b;
      max = Math.max(max, b);
    }
    return { bufferedBytes: total, maxClientBufferedBytes: max };
  }

  countFrom(address: string): number {
    let n = 0;
    for (const c of this.clients) if (c.address === address) n++;
    return n;
  }

  /** Take over an accepted connection, streaming it the view and form it asked for. */
  attach(ws: WebSocket, address: string, options: ConnectionOptions = DEFAULT_CONNECTION): void {
    const client: ClientState = { ws, seq: null, behindSince: null, alive: true, address, view: options.view, aggregates: options.aggregates, allowance: 0 };
    this.clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = parseClientMessage(data.toString());
      if (msg?.type === 'resync') this.resync(client);
    });
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    const snap = this.current();
    const hello: HelloMessage = {
      type: 'hello',
      v: PROTOCOL_VERSION,
      agentVersion: this.opts.agentVersion,
      serverTime: Date.now(),
      intervalMs: this.opts.intervalMs,
      hostname: snap?.host.hostname ?? '',
      view: client.view,
      aggregates: client.aggregates,
    };
    this.send(client, JSON.stringify(hello));
    this.sendSnapshotSoon(client);
  }

  /**
   * Called once per tick with the new and previous snapshot. With 100k changed sockets the diff
   * and its serialisation each take a few hundred ms: they run as separate turns of the event
   * loop so HTTP is answered in between.
   */
  async publish(next: Snapshot, prev: Snapshot | null): Promise<void> {
    // A prepared snapshot is kept for the clients of its own tick only (75 MB at 200k sockets).
    for (const [view, cached] of this.snapshotCache) if (cached.seq !== next.seq) this.forget(view, cached);
    if (this.clients.size === 0) return;
    const clients = [...this.clients];
    const inStep = prev === null ? [] : clients.filter((c) => c.behindSince === null && c.seq === prev.seq);
    const deltas = prev !== null && inStep.length > 0 ? await serialiseDeltaForms(prev, next, new Set(inStep.map(formKey))) : new Map<FormKey, Buffer>();
    const wantsSnapshot = (c: ClientState): boolean =>
      c.seq !== next.seq && (c.behindSince === null ? prev === null || c.seq !== prev.seq : c.ws.bufferedAmount <= this.low);
    const prepared = new Map<StreamView, PreparedSnapshot>();
    for (const view of new Set(clients.filter(wantsSnapshot).map((c) => c.view))) prepared.set(view, await this.prepareSnapshot(next, view));
    const now = Date.now();
    for (const client of this.clients) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      if (client.seq === next.seq) continue; // joined (or resynced) while this tick was being prepared
      const buffered = client.ws.bufferedAmount;
      client.allowance = Math.min(client.allowance, buffered);
      if (client.behindSince !== null) {
        if (buffered <= this.low) {
          client.behindSince = null;
          this.sendSnapshot(client, prepared.get(client.view));
        } else if (now - client.behindSince > this.maxBehindMs) {
          this.drop(client, 'slow-consumer', `client did not read for ${Math.round((now - client.behindSince) / 1000)} s`);
        } else {
          this.stats.deltasSkipped++;
        }
        continue;
      }
      if (buffered > this.high + client.allowance) {
        client.behindSince = now;
        client.seq = null;
        this.stats.deltasSkipped++;
        continue;
      }
      if (prev === null || client.seq !== prev.seq) {
        this.sendSnapshot(client, prepared.get(client.view));
        continue;
      }
      const key = formKey(client);
      let data = deltas.get(key);
      if (data === undefined) {
        data = Buffer.from(deltaTextNow(prev, next, client.view, client.aggregates));
        deltas.set(key, data);
      }
      this.send(client, data);
      client.seq = next.seq;
      this.stats.deltasSent++;
    }
  }

  /** Tell every client we are going away, then close them. */
  closeAll(reason: ByeMessage['reason'], message: string): void {
    for (const client of this.clients) this.drop(client, reason, message, 1001);
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /**
   * Answer `resync` at once only while the client's buffer is nearly empty; otherwise its snapshot
   * waits for a tick's watermark check. A client that floods `resync` and never reads cannot make
   * us queue one full snapshot per frame.
   */
  private resync(client: ClientState): void {
    client.seq = null;
    if (client.behindSince === null && client.ws.bufferedAmount <= this.low) this.sendSnapshotSoon(client);
  }

  /**
   * A snapshot for one client (it connected, or asked to resync) without serialising 100k sockets
   * in one go: prepared in slices, then sent unless a tick sent one meanwhile (seq no longer null).
   */
  private sendSnapshotSoon(client: ClientState): void {
    const snap = this.current();
    if (!snap) return;
    void this.prepareSnapshot(snap, client.view).then((prepared) => {
      if (client.seq === null && client.behindSince === null && this.clients.has(client)) this.sendSnapshot(client, prepared);
    });
  }

  /** Serialise a snapshot message ahead of sending, in slices (see emitSliced). */
  private prepareSnapshot(snap: Snapshot, view: StreamView): Promise<PreparedSnapshot> {
    const cached = this.snapshotCache.get(view);
    if (cached?.seq === snap.seq) return Promise.resolve(cached);
    const pending = this.preparing.get(view);
    if (pending?.seq === snap.seq) return pending.done;
    const done = serialiseSnapshot(view === 'summary' ? summarySnapshot(snap) : snap).then((data) => {
      const prepared: PreparedSnapshot = { seq: snap.seq, data, sending: 0 };
      const cached = this.snapshotCache.get(view);
      if (cached === undefined || cached.seq < snap.seq) {
        if (cached !== undefined) this.forget(view, cached);
        this.snapshotCache.set(view, prepared);
      }
      if (this.preparing.get(view)?.seq === snap.seq) this.preparing.delete(view);
      return prepared;
    });
    this.preparing.set(view, { seq: snap.seq, done });
    return done;
  }

  /**
   * Send the current snapshot: `prepared` when it is of the current seq, else the cached one, else
   * serialised here (in one call: only when nothing was prepared).
   */
  private sendSnapshot(client: ClientState, prepared?: PreparedSnapshot): void {
    const snap = this.current();
    if (!snap || client.ws.readyState !== WebSocket.OPEN) return;
    let cached = prepared?.seq === snap.seq ? prepared : this.snapshotCache.get(client.view);
    if (cached?.seq !== snap.seq) {
      const shown = client.view === 'summary' ? summarySnapshot(snap) : snap;
      const msg: SnapshotMessage = { type: 'snapshot', v: PROTOCOL_VERSION, seq: snap.seq, snapshot: shown };
      const old = this.snapshotCache.get(client.view);
      if (old !== undefined) this.forget(client.view, old);
      cached = { seq: snap.seq, data: Buffer.from(JSON.stringify(msg)), sending: 0 };
      this.snapshotCache.set(client.view, cached);
    }
    const sent = cached;
    sent.sending++;
    this.send(client, sent.data, () => {
      sent.sending--;
      // Written to every client it went to: a client joining later serialises again rather than
      // the hub holding 80 MB for it until the next tick.
      if (sent.sending === 0) this.forget(client.view, sent);
    });
    client.seq = snap.seq;
    client.allowance = sent.data.length;
    this.stats.snapshotsSent++;
  }

  /** Forget a prepared snapshot; once no send of it is in flight, say its bytes are free. */
  private forget(view: StreamView, prepared: PreparedSnapshot): void {
    if (this.snapshotCache.get(view) === prepared) this.snapshotCache.delete(view);
    if (prepared.sending === 0 && !prepared.released) {
      prepared.released = true;
      this.opts.released?.(prepared.data.length);
    }
  }

  /** Text frames; a Buffer is sent as is to every client (ws would convert a string per client). */
  private send(client: ClientState, data: string | Buffer, written?: () => void): void {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(data, { binary: false }, written);
    else written?.();
  }

  private drop(client: ClientState, reason: ByeMessage['reason'], message: string, code = 1008): void {
    const bye: ServerMessage = { type: 'bye', v: PROTOCOL_VERSION, reason, message };
    try {
      if (client.ws.bufferedAmount < this.high) client.ws.send(JSON.stringify(bye));
      client.ws.close(code, reason);
    } catch {
      /* already gone */
    }
    // A peer that will not read will not complete the close handshake either.
    const ws = client.ws;
    setTimeout(() => ws.terminate(), 2000).unref();
    this.clients.delete(client);
    this.stats.dropped++;
  }

  private beat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        this.clients.delete(client);
        this.stats.timedOut++;
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch {
        /* closed meanwhile */
      }
    }
  }
}
