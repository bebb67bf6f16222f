/** /api/alerts, /api/history, /api/config through express on 127.0.0.1, with a fake monitoring API. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse } from '@netscope/shared';
import { monitoringRouter, type MonitoringApi } from '../../src/alerts/routes.js';
import { Monitor } from '../../src/alerts/monitor.js';
import { at, cfg, conns } from './synthetic.js';

let server: Server;
let origin = '';
let monitor: Monitor;
const asked: { limit?: number; range?: number } = {};

beforeAll(async () => {
  monitor = await Monitor.create(null, { alerts: cfg({ established: { threshold: 1, raiseAfterSec: 0 } }), dataDir: '/nonexistent', hostname: 'h', persist: false });
  for (let s = 0; s < 5; s++) monitor.observe(at(s, { sockets: conns(3, 'ESTABLISHED') }));
  const real = monitor.api();
  const api: MonitoringApi = {
    ...real,
    alerts: (limit) => {
      asked.limit = limit;
      return real.alerts(limit);
    },
    history: (range) => {
      asked.range = range;
      return monitor.historyResponse(range, at(5).time);
    },
  };
  const app = express();
  app.use(monitoringRouter(api));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await monitor.close();
});

describe('monitoring routes', () => {
  it('/api/alerts: active and log, limit checked', async () => {
    const r = await fetch(`${origin}/api/alerts?limit=5`);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = (await r.json()) as { active: unknown[]; log: unknown[]; logLimit: number };
    expect(body.active).toHaveLength(1);
    expect(body.log).toHaveLength(1);
    expect(asked.limit).toBe(5);
    expect((await fetch(`${origin}/api/alerts?limit=-1`)).status).toBe(400);
    expect(await (await fetch(`${origin}/api/alerts?limit=5000`)).json()).toEqual({ error: 'limit must be between 0 and 1000, got 5000' });
  });

  it('/api/history: range default 3600, bounded by the longest tier', async () => {
    const h = (await (await fetch(`${origin}/api/history`)).json()) as HistoryResponse;
    expect(asked.range).toBe(3600);
    expect(h.resolutionSec).toBe(1);
    expect(h.points.length).toBe(4); // 5 ticks, the last second still open
    expect((await fetch(`${origin}/api/history?range=172801`)).status).toBe(400);
    expect((await fetch(`${origin}/api/history?range=0`)).status).toBe(400);
    expect((await fetch(`${origin}/api/history?range=1e3`)).status).toBe(400);
  });

  it('/api/config: effective rules, services, history store state', async () => {
    const c = (await (await fetch(`${origin}/api/config`)).json()) as ReturnType<Monitor['effectiveConfig']>;
    expect(c.rules.established.threshold).toBe(1);
    expect(c.rules.timeWait.threshold).toBe(1000);
    expect(c.history).toMatchObject({ persisted: false, storeError: null, store: null });
    expect(c.history.tiers).toHaveLength(3);
  });
});
