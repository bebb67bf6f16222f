/**
 * HTTP (express) + the /ws upgrade. API: /api/health, /api/snapshot; everything else that is a GET
 * is the web app with history-mode fallback to index.html.
 */
import { existsSync, readFileSync } from 'node:fs';
import { STATUS_CODES, createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { WebSocketServer } from 'ws';
import { parseStreamQuery, type Snapshot } from '@netscope/shared';
import type { Config } from '../config.js';
import { STREAM_DEFLATE, StreamHub, serialiseSnapshotBody } from './stream.js';
import { monitoringRouter, type MonitoringApi } from '../alerts/routes.js';
import { AggregateViews, type ViewAnswer } from './views.js';
import { ConnectionsTable } from './connections.js';
import {
  FailureLimiter,
  authorized,
  cookieName,
  hostAllowed,
  isWildcard,
  limiterKey,
  machineAddresses,
  originAllowed,
  sessionValue,
  tokenMatches,
  type AccessPolicy,
} from './security.js';

export const MAX_CLIENTS = 64;
export const MAX_CLIENTS_PER_ADDRESS = 16;
/** TCP connections (HTTP and /ws): an idle-connection flood must not exhaust our fds (/proc reads need them). */
export const MAX_CONNECTIONS = 2048;
export const MAX_CONNECTIONS_PER_ADDRESS = 256;
/** Client frames are tiny (`{"type":"resync"}`); anything bigger is refused by ws with 1009. */
export const MAX_CLIENT_PAYLOAD = 4096;

export interface AgentServer {
  server: Server;
  hub: StreamHub;
  /** GET /api/connections; its observe() runs on every tick. */
  connections: ConnectionsTable;
  policy: AccessPolicy;
  close(): Promise<void>;
}

export interface ServerDeps {
  config: Config;
  agentVersion: string;
  current: () => Snapshot | null;
  /** /etc/services name or alias → ports (the collector's), for port filters by name. */
  servicePorts?: () => ReadonlyMap<string, readonly number[]> | null;
  health: () => Record<string, unknown>;
  webRoot: string;
  /** /api/alerts, /api/history, /api/config (absent: those answer 404). */
  monitoring?: MonitoringApi;
  /** A big message's bytes are no longer held by the stream (StreamOptions.released). */
  released?: (bytes: number) => void;
}

function contentSecurityPolicy(scheme: 'http' | 'https', host: string | undefined): string {
  const ws = host ? ` ${scheme === 'https' ? 'wss' : 'ws'}://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function remoteAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

function rejectUpgrade(socket: Duplex, status: number, text: string, body = text): void {
  socket.write(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroy();
}

export function createAgentServer(deps: ServerDeps): AgentServer {
  const { config } = deps;
  const scheme: 'http' | 'https' = config.tlsCert ? 'https' : 'http';
  const policy: AccessPolicy = {
    scheme,
    boundHost: config.host,
    port: config.port,
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    token: config.token,
    ...(isWildcard(config.host) ? { localAddresses: machineAddresses } : {}),
  };
  const limiter = new FailureLimiter();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Every response: security headers; every request: a Host we serve (DNS rebinding guard).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const hostOk = hostAllowed(policy, req.headers.host);
    // A refused Host is never echoed into the CSP (it is attacker-chosen text).
    res.setHeader('Content-Security-Policy', hostOk ? contentSecurityPolicy(scheme, req.headers.host) : "default-src 'none'; frame-ancestors 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (!hostOk) {
      res.status(403).type('text/plain').send(`Host "${req.headers.host ?? ''}" is not served here (DNS rebinding guard). Use --allow-host to add a name.`);
      return;
    }
    next();
  });

  // Token: exchange ?token= once for an HttpOnly cookie and strip it from the URL; else require it.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (policy.token === null) return next();
    const addr = remoteAddress(req);
    if (limiter.blocked(addr)) {
      res.status(429).type('text/plain').send('Too many failed attempts; wait a minute.');
      return;
    }
    const fromQuery = typeof req.query.token === 'string' ? req.query.token : null;
    if (fromQuery !== null) {
      if (!tokenMatches(policy.token, fromQuery)) {
        limiter.fail(addr);
        res.status(401).type('text/plain').send('Wrong token.');
        return;
      }
      const url = new URL(req.originalUrl, 'http://x');
      url.searchParams.delete('token');
      const secure = scheme === 'https' ? '; Secure' : '';
      res.setHeader(
        'Set-Cookie',
        `${cookieName(policy.port)}=${sessionValue(policy.token)}; HttpOnly; SameSite=Strict; Path=/${secure}`,
      );
      // One leading slash: `/.//evil.example/?token=…` must not redirect off-site.
      res.redirect(303, url.pathname.replace(/^\/+/, '/') + url.search);
      return;
    }
    if (authorized(policy, req.headers)) return next();
    limiter.fail(addr);
    res.status(401).type('text/plain').send('This netscope requires a token: open it once as /?token=YOUR_TOKEN, or send "Authorization: Bearer YOUR_TOKEN".');
  });

  app.get('/api/health', (_req, res) => {
    res.json(deps.health());
  });

  app.get('/api/snapshot', (_req, res, next) => {
    const snap = deps.current();
    if (!snap) {
      res.status(503).json({ error: 'no snapshot collected yet' });
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    // Serialised in slices: 100k sockets in one JSON.stringify would stall every other request.
    serialiseSnapshotBody(snap).then((body) => {
      res.once('close', () => deps.released?.(body.length));
      res.type('application/json').send(body);
    }, next);
  });

  // The /connections table, filtered, sorted and paged here (contract: @netscope/shared table/page.ts).
  const connections = new ConnectionsTable(deps.current, Date.now, deps.servicePorts);
  app.get('/api/connections', (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    connections.query(req.query as Record<string, unknown>).then((answer) => {
      if ('error' in answer) res.status(answer.status).json({ error: answer.error });
      else if ('download' in answer) {
        res.setHeader('Content-Disposition', `attachment; filename="${answer.download.fileName.replace(/[^\w.-]/g, '_')}"`);
        res.type(answer.download.contentType).send(answer.download.text);
      } else res.json(answer.page);
    }, next);
  });

  // The tables of /processes, /listening and /remote (contract: @netscope/shared views.ts).
  const views = new AggregateViews(deps.current);
  const viewRoute = <T>(path: string, answer: (req: Request) => Promise<ViewAnswer<T>>) =>
    app.get(path, (req, res, next) => {
      res.setHeader('Cache-Control', 'no-store');
      answer(req).then((a) => {
        if (a.status === 200) res.json(a.body);
        else res.status(a.status).json({ error: a.error });
      }, next);
    });
  const query = (req: Request) => req.query as Record<string, unknown>;
  viewRoute('/api/processes', (req) => views.processes(query(req)));
  viewRoute('/api/processes/:key', (req) => views.process(String(req.params.key), query(req)));
  viewRoute('/api/listening', (req) => views.listening(query(req)));
  viewRoute('/api/remote', (req) => views.remote(query(req)));

  if (deps.monitoring) app.use(monitoringRouter(deps.monitoring));

  app.all('/api/{*rest}', (req, res) => {
    res.status(404).json({ error: `no such API: ${req.method} ${req.path}` });
  });

  const indexPath = join(deps.webRoot, 'index.html');
  app.use(express.static(deps.webRoot, { index: false, fallthrough: true, maxAge: '1h', immutable: false }));
  app.get('/{*rest}', (_req, res) => {
    if (!existsSync(indexPath)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The web app is not built (${indexPath} is missing). Run: pnpm build — or start with: pnpm start`);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexPath);
  });

  // Anything that throws (e.g. a malformed %-escape in the path) ends here: a status line, no
  // stack trace to the client, and no log line per request for anyone to flood.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
    const code = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
    res.status(code).type('text/plain').send(STATUS_CODES[code] ?? 'Error');
  });

  const server =
    scheme === 'https'
      ? createHttpsServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!), connectionsCheckingInterval: 1000 }, app)
      : createHttpServer({ connectionsCheckingInterval: 1000 }, app);
  // Checked every second (connectionsCheckingInterval): a request head must be complete in 10 s.
  server.headersTimeout = 10_000;
  // A connection with no traffic either way for 10 s is closed (headersTimeout does not cover one
  // that never sends a byte: an idle flood). /ws sockets are exempt: see the upgrade handler.
  server.setTimeout(10_000);
  server.requestTimeout = 30_000;
  server.maxConnections = MAX_CONNECTIONS;
  // One address (IPv6: one /64) cannot take every connection slot.
  const connectionsFrom = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = limiterKey(socket.remoteAddress ?? 'unknown');
    const n = (connectionsFrom.get(key) ?? 0) + 1;
    if (n > MAX_CONNECTIONS_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    connectionsFrom.set(key, n);
    socket.once('close', () => {
      const left = (connectionsFrom.get(key) ?? 1) - 1;
      if (left <= 0) connectionsFrom.delete(key);
      else connectionsFrom.set(key, left);
    });
  });
  // With --port 0 the kernel picks the port: Origin checks and the cookie name need the real one.
  server.on('listening', () => {
    const address = server.address();
    if (typeof address === 'object' && address !== null) policy.port = address.port;
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_PAYLOAD, perMessageDeflate: STREAM_DEFLATE });
  const hub = new StreamHub(deps.current, { agentVersion: deps.agentVersion, intervalMs: config.intervalMs, released: deps.released });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (path !== '/ws') return rejectUpgrade(socket, 404, 'Not Found');
    if (!hostAllowed(policy, req.headers.host)) return rejectUpgrade(socket, 403, 'Forbidden host');
    if (!originAllowed(policy, req.headers.origin, req.headers.host)) return rejectUpgrade(socket, 403, 'Forbidden origin');
    const addr = remoteAddress(req);
    if (policy.token !== null) {
      if (limiter.blocked(addr)) return rejectUpgrade(socket, 429, 'Too Many Requests');
      if (!authorized(policy, req.headers)) {
        limiter.fail(addr);
        return rejectUpgrade(socket, 401, 'Unauthorized');
      }
    }
    // /ws?view=full|summary&aggregates=whole|patch (messages.ts); a value we do not know is refused, not guessed.
    const options = parseStreamQuery(new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)));
    if ('error' in options) return rejectUpgrade(socket, 400, 'Bad Request', `/ws: ${options.error}\n`);
    // Per address, IPv6 per /64 (one host holds the whole prefix).
    const who = limiterKey(addr);
    if (hub.clientCount >= MAX_CLIENTS || hub.countFrom(who) >= MAX_CLIENTS_PER_ADDRESS) {
      return rejectUpgrade(socket, 503, 'Too many clients');
    }
    // An idle dashboard is quiet between ticks (--interval up to an hour): the heartbeat, not the
    // HTTP inactivity timeout, decides when a WebSocket peer is gone.
    (socket as Socket).setTimeout(0);
    wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, who, options));
  });

  return {
    server,
    hub,
    connections,
    policy,
    close: () =>
      new Promise<void>((resolve) => {
        hub.closeAll('shutdown', 'the agent is shutting down');
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
