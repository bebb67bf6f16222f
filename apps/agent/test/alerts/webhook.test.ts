/** The webhook against a real HTTP receiver on 127.0.0.1: raise and clear POSTed, failures counted, the tick never waits. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertEvent } from '@netscope/shared';
import { AlertEngine } from '../../src/alerts/engine.js';
import { WebhookSender, type WebhookBody } from '../../src/alerts/webhook.js';
import { at, cfg, conns } from './synthetic.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: WebhookBody;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A receiver answering `status(n)` for the n-th request (0-based), after `delayMs`. */
async function receiver(status: (n: number) => number = () => 204, delayMs = 0): Promise<{ url: string; got: Received[]; port: number }> {
  const got: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = n++;
      setTimeout(() => {
        got.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as WebhookBody });
        res.statusCode = status(i);
        res.end();
      }, delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, port };
}

/** A port on 127.0.0.1 with nothing listening: bind, note it, close. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const fast = { backoffMs: () => 10 };

describe('webhook', () => {
  it('POSTs the raise and the clear as JSON, in order, with the configured headers', async () => {
    const rx = await receiver();
    const config = cfg({ established: { threshold: 2, raiseAfterSec: 0, clearAfterSec: 0 }, perRemote: { enabled: false } });
    config.webhook = { url: rx.url, timeoutMs: 2000, retries: 0, headers: { 'x-netscope-test': 'yes' } };
    const webhook = new WebhookSender(config.webhook, 'wallhost', fast);
    const engine = new AlertEngine(config, { webhook });
    engine.process(at(0, { sockets: conns(5, 'ESTABLISHED') }));
    engine.process(at(1, { sockets: [] }));
    await webhook.idle();
    expect(rx.got.map((g) => g.body.event)).toEqual(['raised', 'cleared']);
    const [raised, cleared] = rx.got.map((g) => g.body);
    expect(raised).toMatchObject({ type: 'netscope.alert.v1', host: 'wallhost', value: 5, alert: { rule: 'established', link: '/connections?state=ESTABLISHED', clearedAt: null } });
    expect(cleared!.alert.clearedAt).not.toBeNull();
    expect(raised!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rx.got[0]!.headers['content-type']).toBe('application/json');
    expect(rx.got[0]!.headers['x-netscope-test']).toBe('yes');
    expect(webhook.stats).toMatchObject({ sent: 2, failed: 0, queued: 0 });
    expect(engine.response().webhook).toMatchObject({ sent: 2 });
  });

  it('retries a 5xx, then succeeds', async () => {
    const rx = await receiver((n) => (n < 2 ? 503 : 200));
    const w = new WebhookSender({ url: rx.url, timeoutMs: 2000, retries: 2, headers: {} }, 'h', fast);
    w.send(event());
    await w.idle();
    expect(w.stats).toMatchObject({ sent: 1, retried: 2, failed: 0 });
    expect(rx.got).toHaveLength(3);
  });

  it('receiver down: the failure is counted, not thrown, and send() returns at once', async () => {
    const port = await deadPort();
    const w = new WebhookSender({ url: `http://127.0.0.1:${port}/hook`, timeoutMs: 1000, retries: 2, headers: {} }, 'h', fast);
    const t0 = performance.now();
    w.send(event());
    w.send(event());
    expect(performance.now() - t0).toBeLessThan(20); // queued, not sent inline
    await w.idle();
    expect(w.stats.failed).toBe(2);
    expect(w.stats.retried).toBe(4);
    expect(w.stats.sent).toBe(0);
    expect(w.stats.lastError).toBe('ECONNREFUSED');
  });

  it('a receiver that hangs times out; the tick goes on meanwhile', async () => {
    const rx = await receiver(() => 200, 2000);
    const config = cfg({ established: { threshold: 2, raiseAfterSec: 0, clearAfterSec: 0 }, perRemote: { enabled: false } });
    const w = new WebhookSender({ url: rx.url, timeoutMs: 200, retries: 0, headers: {} }, 'h', fast);
    const engine = new AlertEngine(config, { webhook: w });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) engine.process(at(i, { sockets: conns(i % 2 === 0 ? 5 : 0, 'ESTABLISHED') }));
    expect(performance.now() - t0).toBeLessThan(500); // 10 ticks with 10 events, none waiting on the receiver
    await w.idle();
    expect(w.stats.failed + w.stats.dropped).toBe(10);
    expect(w.stats.lastError).toBe('timed out after 200 ms');
  }, 30_000);

  it('the queue is bounded: a long outage drops the oldest events (counted)', async () => {
    const port = await deadPort();
    const w = new WebhookSender({ url: `http://127.0.0.1:${port}/`, timeoutMs: 500, retries: 0, headers: {} }, 'h', { ...fast, queueLimit: 5 });
    for (let i = 0; i < 20; i++) w.send(event());
    expect(w.stats.queued).toBeLessThanOrEqual(5);
    await w.idle();
    expect(w.stats.dropped + w.stats.failed).toBe(20);
    expect(w.stats.dropped).toBeGreaterThanOrEqual(14);
  });
});

function event(): AlertEvent {
  const engine = new AlertEngine(cfg({ established: { threshold: 0, raiseAfterSec: 0 } }));
  const [e] = engine.process(at(0, { sockets: conns(1, 'ESTABLISHED') }));
  return e!;
}
