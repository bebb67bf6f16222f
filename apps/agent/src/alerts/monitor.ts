/**
 * Monitoring around the collector: after each collection, evaluate the alerts (so the snapshot
 * the tick loop publishes already carries `alerts` and `services`), record the history point, and
 * queue both for the store. A `Collects` decorator, so the tick loop and the stream need no change.
 */
import type { AlertEvent, EffectiveConfigResponse, HistoryResponse, Snapshot } from '@netscope/shared';
import type { Collects } from '../collect/loop.js';
import { History, type TierSpec } from '../history/history.js';
import { pointFromSnapshot } from '../history/point.js';
import { HistoryStore } from '../history/store.js';
import { publicWebhookUrl, type AlertsConfig } from './config.js';
import { ALERT_LOG_LIMIT, AlertEngine } from './engine.js';
import type { MonitoringApi } from './routes.js';
import { WebhookSender } from './webhook.js';
import { SocketSummariser } from '../collect/summary.js';
import { FollowedCounts } from '../collect/followed.js';
import { MeasureCounts, alertGroup, unwatchExcept, warmBreakdown, type Measures } from './measure.js';
import { Slice, yieldToLoop } from '../yield.js';

/** Retention pruning of the store, in snapshot time. */
export const PRUNE_EVERY_MS = 60_000;

export interface MonitorDeps {
  alerts: AlertsConfig;
  dataDir: string;
  hostname: string;
  tiers?: readonly TierSpec[];
  /** Where warnings go (store unavailable); default console.warn. */
  warn?: (message: string) => void;
  /** false: memory only (tests). */
  persist?: boolean;
}

export class Monitor implements Collects {
  private lastPrune = 0;
  private closed = false;
  private readonly summariser = new SocketSummariser();
  private readonly measures = new FollowedCounts(() => new MeasureCounts());

  private constructor(
    private readonly inner: Collects | null,
    readonly engine: AlertEngine,
    readonly history: History,
    readonly store: HistoryStore | null,
    readonly webhook: WebhookSender | null,
    readonly deps: MonitorDeps,
    readonly storeError: string | null,
  ) {}

  /** Open the store (degrading to memory-only with a warning), restore history and the alert log. */
  static async create(inner: Collects | null, deps: MonitorDeps): Promise<Monitor> {
    const warn = deps.warn ?? ((m: string) => console.warn(`netscope: ${m}`));
    let store: HistoryStore | null = null;
    let storeError: string | null = null;
    if (deps.persist !== false) {
      try {
        store = await HistoryStore.open(deps.dataDir);
      } catch (err) {
        storeError = (err as Error).message;
        warn(`${storeError}; history and the alert log are kept in memory only`);
      }
    }
    const history = new History(deps.tiers);
    let restoredActive: Awaited<ReturnType<HistoryStore['loadActive']>> = [];
    let restoredLog: Awaited<ReturnType<HistoryStore['loadEvents']>> = [];
    let restoredServices: Awaited<ReturnType<HistoryStore['loadServices']>> = [];
    if (store) {
      const now = Date.now();
      for (const [i, spec] of history.specs.entries()) {
        history.restore(i, await store.loadPoints(i, now - spec.spanSec * 1000));
      }
      restoredLog = await store.loadEvents(ALERT_LOG_LIMIT);
      restoredActive = await store.loadActive();
      restoredServices = await store.loadServices();
    }
    const webhook = deps.alerts.webhook ? new WebhookSender(deps.alerts.webhook, deps.hostname) : null;
    const engine = new AlertEngine(deps.alerts, { webhook, sink: store, restoredActive, restoredLog, restoredServices });
    return new Monitor(inner, engine, history, store, webhook, deps, storeError);
  }

  async collect(effectiveIntervalMs: number, stretchedReason: string | null): Promise<Snapshot> {
    if (!this.inner) throw new Error('this monitor has no collector');
    const snap = await this.inner.collect(effectiveIntervalMs, stretchedReason);
    // Counted here, with alerts and services, so every published tick carries it (the summary view's stream).
    // At 200k sockets a pass over them is a long task: both counts follow the sockets that changed
    // since the last tick (FollowedCounts, one identity walk shared by both), and HTTP gets a turn
    // between the summary, the alert measures and the rules.
    await this.summariser.attach(snap);
    await yieldToLoop();
    const measures = (await this.measures.follow(snap.sockets)).m;
    // Active alerts refresh their text from their group's breakdown: counted here, in slices.
    const slice = new Slice(15);
    for (const a of this.engine.active) await warmBreakdown(measures, snap.sockets, alertGroup(a.rule, a.key), slice);
    await yieldToLoop();
    this.observe(snap, snap.time, measures);
    // Only the groups of alerts still active stay counted (an alert raised this tick counted its own).
    unwatchExcept(measures, this.engine.active.map((a) => alertGroup(a.rule, a.key)));
    return snap;
  }

  /** Evaluate and record one snapshot (also used directly by tests and the soak); returns this tick's alert events. */
  observe(snap: Snapshot, now: number = snap.time, measures?: Measures): AlertEvent[] {
    if (this.closed) return [];
    const events = this.engine.process(snap, now, measures);
    const done = this.history.record(pointFromSnapshot(snap, this.engine.active.length));
    if (this.store) {
      for (const c of done) this.store.putPoint(c.tier, c.point);
      if (now - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = now;
        for (const [i, spec] of this.history.specs.entries()) void this.store.prunePoints(i, now - spec.spanSec * 1000);
        void this.store.pruneEvents(this.engine.logLimit);
      }
    }
    return events;
  }

  /** What server/http.ts serves at /api/alerts, /api/history, /api/config. */
  api(): MonitoringApi {
    return {
      alerts: (limit) => this.engine.response(limit),
      history: (rangeSec) => this.historyResponse(rangeSec),
      config: () => this.effectiveConfig(),
      maxRangeSec: this.history.maxRangeSec,
      logLimit: this.engine.logLimit,
    };
  }

  historyResponse(rangeSec: number, now = Date.now()): HistoryResponse {
    return this.history.query(rangeSec, now);
  }

  effectiveConfig(): EffectiveConfigResponse {
    const a = this.deps.alerts;
    return {
      configFile: a.file,
      rules: a.rules,
      services: a.services,
      webhook: a.webhook ? { url: publicWebhookUrl(a.webhook.url), timeoutMs: a.webhook.timeoutMs, retries: a.webhook.retries } : null,
      history: {
        dataDir: this.deps.dataDir,
        persisted: this.store !== null,
        storeError: this.storeError,
        store: this.store ? { ...this.store.stats } : null,
        tiers: this.history.tierInfo(),
      },
    };
  }

  /** Flush the store and close it; stop the webhook. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Give an event in flight a moment to reach the webhook, then stop it.
    if (this.webhook) {
      await Promise.race([this.webhook.idle(), new Promise((r) => setTimeout(r, 1000).unref())]);
      this.webhook.stop();
    }
    await this.store?.close();
  }
}
