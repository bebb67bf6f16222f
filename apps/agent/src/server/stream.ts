/**
 * /ws: hello + snapshot on connect, then one delta per tick. Each tick's delta is serialised once
 * and sent as the same string to every client in sync.
 *
 * Backpressure (ws has no drain event, so we watch bufferedAmount): a client whose send buffer is
 * past HIGH_WATER skips deltas and is marked behind; once its buffer drains below LOW_WATER it gets
 * a fresh full snapshot. A client behind for longer than MAX_BEHIND_MS is told `bye` and dropped.
 * Heartbeat: ping every HEARTBEAT_MS; no pong by the next ping → terminate.
 */
import { WebSocket } from 'ws';
import {
  PROTOCOL_VERSION,
  diffSnapshots,
  parseClientMessage,
  type ByeMessage,
  type HelloMessage,
  type ServerMessage,
  type Snapshot,
  type SnapshotMessage,
} from '@netscope/shared';

export interface StreamOptions {
  agentVersion: string;
  intervalMs: number;
  highWaterBytes?: number;
  lowWaterBytes?: number;
  maxBehindMs?: number;
  heartbeatMs?: number;
}

interface ClientState {
  ws: WebSocket;
  /** Seq the client holds; null until its first snapshot is out. */
  seq: number | null;
  behindSince: number | null;
  alive: boolean;
  address: string;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class StreamHub {
  private clients = new Set<ClientState>();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly high: number;
  private readonly low: number;
  private readonly maxBehindMs: number;
  /** Cached serialisation of the current snapshot, keyed by seq. */
  private snapshotCache: { seq: number; text: string } | null = null;
  stats = { deltasSent: 0, snapshotsSent: 0, deltasSkipped: 0, dropped: 0 };

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

  countFrom(address: string): number {
    let n = 0;
    for (const c of this.clients) if (c.address === address) n++;
    return n;
  }

  /** Take over an accepted connection. */
  attach(ws: WebSocket, address: string): void {
    const client: ClientState = { ws, seq: null, behindSince: null, alive: true, address };
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
    };
    this.send(client, JSON.stringify(hello));
    this.sendSnapshot(client);
  }

  /**
   * Called once per tick with the new and previous snapshot. With 100k changed sockets the diff
   * and its serialisation each take a few hundred ms: they run as separate turns of the event
   * loop so HTTP is answered in between.
   */
  async publish(next: Snapshot, prev: Snapshot | null): Promise<void> {
    if (this.clients.size === 0) return;
    let deltaText: string | null = null;
    if (prev !== null && [...this.clients].some((c) => c.behindSince === null && c.seq === prev.seq)) {
      const delta = diffSnapshots(prev, next);
      await yieldToLoop();
      deltaText = JSON.stringify(delta);
      await yieldToLoop();
    }
    const now = Date.now();
    for (const client of this.clients) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      if (client.seq === next.seq) continue; // joined (or resynced) while this tick was being prepared
      const buffered = client.ws.bufferedAmount;
      if (client.behindSince !== null) {
        if (buffered <= this.low) {
          client.behindSince = null;
          this.sendSnapshot(client);
        } else if (now - client.behindSince > this.maxBehindMs) {
          this.drop(client, 'slow-consumer', `client did not read for ${Math.round((now - client.behindSince) / 1000)} s`);
        } else {
          this.stats.deltasSkipped++;
        }
        continue;
      }
      if (buffered > this.high) {
        client.behindSince = now;
        client.seq = null;
        this.stats.deltasSkipped++;
        continue;
      }
      if (prev === null || client.seq !== prev.seq) {
        this.sendSnapshot(client);
        continue;
      }
      deltaText ??= JSON.stringify(diffSnapshots(prev, next));
      this.send(client, deltaText);
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
    if (client.behindSince === null && client.ws.bufferedAmount <= this.low) this.sendSnapshot(client);
    else client.seq = null;
  }

  private sendSnapshot(client: ClientState): void {
    const snap = this.current();
    if (!snap || client.ws.readyState !== WebSocket.OPEN) return;
    if (this.snapshotCache?.seq !== snap.seq) {
      const msg: SnapshotMessage = { type: 'snapshot', v: PROTOCOL_VERSION, seq: snap.seq, snapshot: snap };
      this.snapshotCache = { seq: snap.seq, text: JSON.stringify(msg) };
    }
    this.send(client, this.snapshotCache.text);
    client.seq = snap.seq;
    this.stats.snapshotsSent++;
  }

  private send(client: ClientState, text: string): void {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(text);
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
