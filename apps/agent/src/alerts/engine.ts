/**
 * The stateful side of alerting around the pure evaluator: keeps the evaluator state between
 * ticks, attaches active alerts and service status to each snapshot, keeps the bounded event log,
 * and hands events to the webhook and the store. Nothing here waits on I/O.
 */
import type { Alert, AlertEvent, AlertsResponse, Snapshot, WatchedServiceStatus } from '@netscope/shared';
import type { AlertsConfig } from './config.js';
import { evaluate, initialState, type EvalState } from './evaluate.js';
import type { WebhookSender } from './webhook.js';
import type { Measures } from './measure.js';

export const ALERT_LOG_LIMIT = 1000;

/** Where events and the active set go to survive a restart (the history store). */
export interface AlertSink {
  putEvent(e: AlertEvent): void;
  putActive(active: readonly Alert[]): void;
  putServices(services: readonly WatchedServiceStatus[]): void;
}

export interface EngineOptions {
  webhook?: WebhookSender | null;
  sink?: AlertSink | null;
  /** Active at the last shutdown: tracked as active again, so a restart does not raise them twice. */
  restoredActive?: readonly Alert[];
  /** Newest first. */
  restoredLog?: readonly AlertEvent[];
  /** Watched services' last status: a service down before a restart stays "down since" then. */
  restoredServices?: readonly WatchedServiceStatus[];
  logLimit?: number;
}

export class AlertEngine {
  private state: EvalState;
  private prev: Snapshot | null = null;
  active: Alert[];
  services: WatchedServiceStatus[] = [];
  /** Newest first. */
  log: AlertEvent[];
  readonly logLimit: number;

  constructor(
    readonly config: AlertsConfig,
    private readonly opts: EngineOptions = {},
  ) {
    this.logLimit = opts.logLimit ?? ALERT_LOG_LIMIT;
    this.active = [...(opts.restoredActive ?? [])];
    this.state = initialState(this.active, opts.restoredServices ?? []);
    this.log = (opts.restoredLog ?? []).slice(0, this.logLimit);
  }

  /** Evaluate one tick; sets `snap.alerts` and `snap.services`. Returns the events of this tick. */
  process(snap: Snapshot, now: number = snap.time, measures?: Measures): AlertEvent[] {
    const r = evaluate(snap, this.prev, this.config, this.state, now, measures);
    this.state = r.state;
    this.prev = snap;
    const activeChanged = r.events.length > 0 || r.active.length !== this.active.length;
    const before = this.services;
    const servicesChanged =
      r.services.length !== before.length || r.services.some((s, i) => s.up !== before[i]?.up || s.since !== before[i]?.since);
    this.active = r.active;
    this.services = r.services;
    snap.alerts = r.active;
    snap.services = r.services;
    if (r.events.length > 0) {
      // Newest first: this tick's events in reverse order of occurrence, before the older ones.
      this.log = [...[...r.events].reverse(), ...this.log].slice(0, this.logLimit);
      for (const e of r.events) {
        this.opts.sink?.putEvent(e);
        this.opts.webhook?.send(e);
      }
    }
    if (activeChanged) this.opts.sink?.putActive(r.active);
    if (servicesChanged) this.opts.sink?.putServices(r.services);
    return r.events;
  }

  response(limit = this.logLimit): AlertsResponse {
    return {
      active: this.active,
      log: this.log.slice(0, limit),
      logLimit: this.logLimit,
      webhook: this.opts.webhook ? { ...this.opts.webhook.stats } : null,
    };
  }
}
