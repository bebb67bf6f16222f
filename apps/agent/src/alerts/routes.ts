/**
 * GET /api/alerts, /api/history, /api/config: mounted by server/http.ts after its Host/token
 * guards, so these answer only to requests the rest of the API answers to.
 */
import { Router, type Request, type Response } from 'express';
import type { AlertsResponse, EffectiveConfigResponse, HistoryPoint, HistoryResponse } from '@netscope/shared';

/** The parts of a point `?fields=` may pick; `t`, `n` always come. */
export const HISTORY_FIELDS = ['states', 'totals', 'ifaces', 'counters', 'alerts'] as const;
type HistoryField = (typeof HISTORY_FIELDS)[number];

/** `?fields=states,totals` → the set; undefined → all; a string → the 400 message. */
export function parseFields(raw: unknown): Set<HistoryField> | null | string {
  if (raw === undefined) return null;
  if (typeof raw !== 'string') return 'fields must be a comma-separated list';
  const parts = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = parts.find((x) => !(HISTORY_FIELDS as readonly string[]).includes(x));
  if (bad !== undefined) return `fields: unknown field ${JSON.stringify(bad)} (known: ${HISTORY_FIELDS.join(', ')})`;
  return new Set(parts as HistoryField[]);
}

function pick(p: HistoryPoint, fields: Set<HistoryField>): Partial<HistoryPoint> {
  const out: Partial<HistoryPoint> = { t: p.t, n: p.n };
  for (const f of fields) (out as Record<string, unknown>)[f] = p[f];
  return out;
}

export interface MonitoringApi {
  alerts(limit: number): AlertsResponse;
  history(rangeSec: number): HistoryResponse;
  config(): EffectiveConfigResponse;
  /** The longest range /api/history serves. */
  maxRangeSec: number;
  logLimit: number;
}

/** Parse an optional whole-number query parameter within [min, max]; a string error for a 400. */
export function intParam(req: Request, name: string, fallback: number, min: number, max: number): number | string {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,12}$/.test(raw)) return `${name} must be a whole number, got ${JSON.stringify(raw)}`;
  const n = Number(raw);
  if (n < min || n > max) return `${name} must be between ${min} and ${max}, got ${n}`;
  return n;
}

function json(res: Response, body: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  res.type('application/json').send(JSON.stringify(body));
}

export function monitoringRouter(api: MonitoringApi): Router {
  const router = Router();
  router.get('/api/alerts', (req, res) => {
    const limit = intParam(req, 'limit', api.logLimit, 0, api.logLimit);
    if (typeof limit === 'string') {
      res.status(400).json({ error: limit });
      return;
    }
    json(res, api.alerts(limit));
  });
  router.get('/api/history', (req, res) => {
    const range = intParam(req, 'range', 3600, 1, api.maxRangeSec);
    if (typeof range === 'string') {
      res.status(400).json({ error: range });
      return;
    }
    const fields = parseFields(req.query.fields);
    if (typeof fields === 'string') {
      res.status(400).json({ error: fields });
      return;
    }
    const h = api.history(range);
    json(res, fields === null ? h : { ...h, fields: [...fields], points: h.points.map((p) => pick(p, fields)) });
  });
  router.get('/api/config', (_req, res) => {
    json(res, api.config());
  });
  return router;
}
