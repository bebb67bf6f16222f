/**
 * The /ws stream client, free of Vue so it can be tested with a fake socket and a fake clock.
 *
 * hello → snapshot → delta per tick. A delta whose baseSeq is not the held seq raises
 * SequenceGapError: we send `resync` and drop deltas until a fresh snapshot arrives. A closed
 * socket reconnects with capped exponential backoff and jitter. No tick for a while means the
 * data is stale: the status says so (and after longer, the socket is presumed dead and replaced).
 */
import {
  applyDelta,
  parseServerMessage,
  SequenceGapError,
  type DeltaMessage,
  type HelloMessage,
  type Snapshot,
} from '@netscope/shared';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

export type StreamStatus =
  /** First connection, no data yet. */
  | 'connecting'
  /** Ticks arrive on time. */
  | 'live'
  /** Connected, but no tick for longer than expected (or waiting for a resync snapshot). */
  | 'stale'
  /** Disconnected; a reconnect is scheduled or under way. Any data shown is stale. */
  | 'reconnecting'
  /** Stopped by the page. */
  | 'stopped';

/** The subset of WebSocket the client uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface StreamDeps {
  url: string;
  createSocket: (url: string) => SocketLike;
  now: () => number;
  random: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  backoff: BackoffOptions;
  /** How long without a tick before the data counts as stale, given the agent's interval. */
  staleAfterMs: (intervalMs: number) => number;
  /** Stale this long while "connected": the socket is presumed dead and replaced. */
  deadAfterMs: (intervalMs: number) => number;
  /** Give up on a connection attempt that has not opened after this long. */
  connectTimeoutMs: number;
}

export const DEFAULT_STREAM_TIMING = {
  backoff: DEFAULT_BACKOFF,
  staleAfterMs: (intervalMs: number) => Math.max(3 * intervalMs, 5_000),
  deadAfterMs: (intervalMs: number) => Math.max(10 * intervalMs, 20_000),
  connectTimeoutMs: 10_000,
};

export type StreamEvent =
  | { kind: 'status' }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'delta'; snapshot: Snapshot; previous: Snapshot; delta: DeltaMessage };

export interface StreamState {
  status: StreamStatus;
  snapshot: Snapshot | null;
  /** Client clock (ms) when the held data was last brought up to date; null before the first snapshot. */
  lastUpdate: number | null;
  hello: HelloMessage | null;
  /** Last problem worth showing: bye reason, protocol error, close code. */
  message: string | null;
  /** Reconnect attempts since the last good snapshot. */
  attempt: number;
  /** Client clock when the next reconnect fires, while reconnecting. */
  nextRetryAt: number | null;
  /** True between sending `resync` and receiving the fresh snapshot. */
  resyncing: boolean;
  /** Sequence gaps seen (each answered with a resync). */
  gaps: number;
  /** Agent clock minus page clock at hello, ms (positive: the agent is ahead); null before hello. */
  clockSkewMs: number | null;
}

const OPEN = 1;

export class StreamClient {
  readonly state: StreamState = {
    status: 'connecting',
    snapshot: null,
    lastUpdate: null,
    hello: null,
    message: null,
    attempt: 0,
    nextRetryAt: null,
    resyncing: false,
    gaps: 0,
    clockSkewMs: null,
  };

  private socket: SocketLike | null = null;
  private retryTimer: unknown = null;
  private connectTimer: unknown = null;
  private watchTimer: unknown = null;
  private stopped = true;
  private readonly listeners = new Set<(e: StreamEvent) => void>();
  /** Client time when the current socket last delivered a data frame (or opened). */
  private lastFrameAt = 0;
  /** Client time when the pending resync was requested. */
  private resyncAt = 0;
  /** Where the next connection goes: deps.url, until `setUrl` (a page that wants another stream view). */
  private url: string;

  constructor(private readonly deps: StreamDeps) {
    this.url = deps.url;
  }

  get currentUrl(): string {
    return this.url;
  }

  /**
   * Stream from another URL (e.g. `/ws?view=summary`): the data held is dropped (it is another
   * view's) and, when started, a fresh connection opens at once. False when the URL is the same.
   */
  setUrl(url: string): boolean {
    if (url === this.url) return false;
    this.url = url;
    this.state.snapshot = null;
    this.state.lastUpdate = null;
    this.state.resyncing = false;
    this.state.attempt = 0;
    this.state.message = null;
    if (!this.stopped) {
      this.clearTimers();
      this.dropSocket();
      this.connect();
    }
    this.emit({ kind: 'status' });
    return true;
  }

  subscribe(fn: (e: StreamEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StreamEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  private setStatus(status: StreamStatus): void {
    if (this.state.status === status) return;
    this.state.status = status;
    this.emit({ kind: 'status' });
  }

  get intervalMs(): number {
    return this.state.snapshot?.collector.effectiveIntervalMs ?? this.state.hello?.intervalMs ?? 1000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
    this.scheduleWatch();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    if (this.watchTimer !== null) this.deps.clearTimeout(this.watchTimer);
    this.watchTimer = null;
    this.dropSocket();
    this.setStatus('stopped');
  }

  /** Reconnect now (the banner's button), resetting the backoff. */
  reconnectNow(): void {
    if (this.stopped) return;
    this.state.attempt = 0;
    this.clearTimers();
    this.dropSocket();
    this.connect();
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.deps.clearTimeout(this.retryTimer);
    if (this.connectTimer !== null) this.deps.clearTimeout(this.connectTimer);
    this.retryTimer = null;
    this.connectTimer = null;
    this.state.nextRetryAt = null;
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    s.onerror = null;
    try {
      s.close(1000, 'client reconnect');
    } catch {
      /* already closed */
    }
  }

  private connect(): void {
    this.state.nextRetryAt = null;
    this.setStatus(this.state.snapshot ? 'reconnecting' : 'connecting');
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(this.url);
    } catch (err) {
      this.state.message = `cannot open ${this.url}: ${err instanceof Error ? err.message : String(err)}`;
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.connectTimer = this.deps.setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === socket && socket.readyState !== OPEN) {
        this.state.message = 'connection attempt timed out';
        this.dropSocket();
        this.scheduleReconnect();
      }
    }, this.deps.connectTimeoutMs);
    socket.onopen = () => {
      if (this.connectTimer !== null) this.deps.clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.lastFrameAt = this.deps.now();
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.handleFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    socket.onerror = () => {
      /* onclose follows and carries the code */
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code !== 1000 && ev.code !== 1001 && !this.state.message?.startsWith('agent')) {
        this.state.message = `connection closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.clearTimers();
    const delay = backoffDelay(this.state.attempt, this.deps.backoff, this.deps.random);
    this.state.attempt++;
    this.state.nextRetryAt = this.deps.now() + delay;
    this.state.resyncing = false;
    this.setStatus(this.state.snapshot ? 'reconnecting' : 'connecting');
    this.emit({ kind: 'status' });
    this.retryTimer = this.deps.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Once a second: stale detection and the dead-socket watchdog. */
  private scheduleWatch(): void {
    this.watchTimer = this.deps.setTimeout(() => {
      this.watchTimer = null;
      if (this.stopped) return;
      this.checkStale();
      this.scheduleWatch();
    }, 1000);
  }

  /** Public for tests: re-evaluate live/stale against the clock. */
  checkStale(): void {
    const now = this.deps.now();
    if (this.socket && this.state.snapshot && this.state.lastUpdate !== null) {
      const age = now - this.state.lastUpdate;
      if (this.state.status === 'live' && age > this.deps.staleAfterMs(this.intervalMs)) this.setStatus('stale');
      const silent = now - Math.max(this.lastFrameAt, this.state.lastUpdate);
      const dead = this.deps.deadAfterMs(this.intervalMs);
      if (silent > dead) {
        this.state.message = `no data for ${Math.round(silent / 1000)} s: reconnecting`;
        this.dropSocket();
        this.scheduleReconnect();
      } else if (this.state.resyncing && now - this.resyncAt > dead) {
        // Deltas keep coming but the fresh snapshot never did: a new connection starts with one.
        this.state.message = 'resync not answered: reconnecting';
        this.dropSocket();
        this.scheduleReconnect();
      }
    }
  }

  private send(text: string): void {
    if (this.socket && this.socket.readyState === OPEN) this.socket.send(text);
  }

  /** Public for tests: handle one server frame. */
  handleFrame(text: string): void {
    let msg;
    try {
      msg = parseServerMessage(text);
    } catch (err) {
      this.state.message = `bad message from agent: ${err instanceof Error ? err.message : String(err)}`;
      this.requestResync();
      return;
    }
    this.lastFrameAt = this.deps.now();
    switch (msg.type) {
      case 'hello':
        this.state.hello = msg;
        this.state.clockSkewMs = msg.serverTime - this.deps.now();
        this.emit({ kind: 'status' });
        return;
      case 'snapshot': {
        this.state.snapshot = msg.snapshot;
        this.state.lastUpdate = this.deps.now();
        this.state.resyncing = false;
        this.state.attempt = 0;
        this.state.message = null;
        this.state.status = 'live';
        this.emit({ kind: 'snapshot', snapshot: msg.snapshot });
        this.emit({ kind: 'status' });
        return;
      }
      case 'delta': {
        const previous = this.state.snapshot;
        if (!previous || this.state.resyncing) return;
        let next: Snapshot;
        try {
          next = applyDelta(previous, msg);
        } catch (err) {
          if (err instanceof SequenceGapError) {
            this.state.gaps++;
            this.state.message = err.message;
          } else {
            this.state.message = `delta failed: ${err instanceof Error ? err.message : String(err)}`;
          }
          this.requestResync();
          return;
        }
        this.state.snapshot = next;
        this.state.lastUpdate = this.deps.now();
        const wasLive = this.state.status === 'live';
        this.state.status = 'live';
        this.emit({ kind: 'delta', snapshot: next, previous, delta: msg });
        if (!wasLive) this.emit({ kind: 'status' });
        return;
      }
      case 'bye':
        this.state.message = `agent said goodbye (${msg.reason}): ${msg.message}`;
        this.emit({ kind: 'status' });
        return; // the server closes; onclose schedules the reconnect
      case 'error':
        this.state.message = `agent error: ${msg.message}`;
        this.emit({ kind: 'status' });
        return;
    }
  }

  private requestResync(): void {
    if (this.state.resyncing) return;
    this.state.resyncing = true;
    this.resyncAt = this.deps.now();
    this.send(JSON.stringify({ type: 'resync' }));
    if (this.state.snapshot) this.setStatus('stale');
    this.emit({ kind: 'status' });
  }
}

/**
 * `full`: every socket. `summary` (`/ws?view=summary`): no socket list, the agent's `socketSummary`
 * instead, for pages that show only counts (an agent that predates the view ignores the parameter
 * and sends everything, which the pages still handle).
 */
export type StreamView = 'full' | 'summary';

export function streamUrl(loc: Pick<Location, 'protocol' | 'host'>, view: StreamView = 'full'): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws${view === 'summary' ? '?view=summary' : ''}`;
}
