/**
 * Webhook: POST one JSON body per alert event (raised / cleared) to a configured URL.
 *
 * Never blocks the tick: `send()` only queues. One delivery at a time, in order; each attempt has
 * a timeout; a failed attempt (network error, timeout, non-2xx) is retried up to `retries` times
 * with a growing pause; an event still failing is counted and dropped. The queue is bounded: when
 * the receiver is down for long, the oldest events are dropped (counted), not memory.
 */
import type { AlertEvent, WebhookStats } from '@netscope/shared';
import type { WebhookConfig } from './config.js';

export const WEBHOOK_QUEUE_LIMIT = 100;

export interface WebhookBody {
  /** `netscope.alert.v1` */
  type: 'netscope.alert.v1';
  event: 'raised' | 'cleared';
  at: string;
  host: string;
  alert: AlertEvent['alert'];
  value: number;
}

export interface WebhookOptions {
  /** Pause before retry n (1-based), ms. */
  backoffMs?: (attempt: number) => number;
  queueLimit?: number;
  fetchImpl?: typeof fetch;
}

export class WebhookSender {
  private queue: WebhookBody[] = [];
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: WebhookStats = { sent: 0, failed: 0, retried: 0, dropped: 0, queued: 0, lastError: null, lastErrorAt: null };
  private readonly backoffMs: (attempt: number) => number;
  private readonly queueLimit: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly config: WebhookConfig,
    private readonly host: string,
    opts: WebhookOptions = {},
  ) {
    this.backoffMs = opts.backoffMs ?? ((n) => Math.min(30_000, 1000 * 2 ** (n - 1)));
    this.queueLimit = opts.queueLimit ?? WEBHOOK_QUEUE_LIMIT;
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  /** Queue an event; returns at once. */
  send(event: AlertEvent): void {
    if (this.stopped) return;
    if (this.queue.length >= this.queueLimit) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push({
      type: 'netscope.alert.v1',
      event: event.kind,
      at: new Date(event.at).toISOString(),
      host: this.host,
      alert: event.alert,
      value: event.value,
    });
    this.stats.queued = this.queue.length;
    if (!this.running) void this.drain();
  }

  /** Resolves when the queue is empty and nothing is in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop delivering; what is queued is dropped (counted). */
  stop(): void {
    this.stopped = true;
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.stats.queued = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const body = this.queue.shift()!;
        this.stats.queued = this.queue.length;
        await this.deliver(body);
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async deliver(body: WebhookBody): Promise<void> {
    const text = JSON.stringify(body);
    for (let attempt = 0; attempt <= this.config.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retried++;
        await new Promise((r) => setTimeout(r, this.backoffMs(attempt)).unref());
        if (this.stopped) return;
      }
      try {
        const res = await this.fetchImpl(this.config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'netscope-agent', ...this.config.headers },
          body: text,
          signal: AbortSignal.timeout(this.config.timeoutMs),
          redirect: 'error',
        });
        // Drain the body so the connection can be reused; its content does not matter.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.stats.sent++;
          return;
        }
        this.noteError(`HTTP ${res.status} ${res.statusText}`.trim());
      } catch (err) {
        const e = err as Error & { cause?: Error & { code?: string } };
        this.noteError(e.name === 'TimeoutError' ? `timed out after ${this.config.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message));
      }
    }
    this.stats.failed++;
  }

  private noteError(message: string): void {
    this.stats.lastError = message;
    this.stats.lastErrorAt = Date.now();
  }
}
