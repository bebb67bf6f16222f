/**
 * The attack suite (issue 5): the built agent, started as a user starts it, hit with the requests
 * a hostile page, a DNS-rebinding site, a port scanner or a flood would send. Every case states
 * the status code it must get. Loopback only: 127.0.0.0/8 source addresses stand in for distinct
 * clients (per-address caps and the failure limiter are keyed on them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Snapshot } from '@netscope/shared';
import { httpGet, makeProcTree, runAgent, startAgent, type ProcTree, type RunningAgent } from './helpers/agent.js';
import { waitFor, wsAttempt, type WsAttempt } from './helpers/ws.js';

const TOKEN = 'T0k3n-for-the-attack-suite-0123456789abcdef';
/** Status codes seen, printed at the end for the issue's report. */
const figures: Array<[string, number | string]> = [];
function seen(name: string, status: number | string): void {
  figures.push([name, status]);
}

const open: WsAttempt[] = [];
function keep(a: WsAttempt): WsAttempt {
  open.push(a);
  return a;
}

let tree: ProcTree;
let plain: RunningAgent;
let guarded: RunningAgent;

beforeAll(async () => {
  tree = makeProcTree({ tcpCount: 50 });
  [plain, guarded] = await Promise.all([
    startAgent([...tree.args, '--port', '0', '--interval', '500']),
    startAgent([...tree.args, '--port', '0', '--interval', '500', '--token', TOKEN, '--allow-origin', 'https://noc.example', '--allow-host', 'netscope.lan']),
  ]);
});

afterAll(async () => {
  for (const a of open) a.ws?.terminate();
  await Promise.all([plain?.stop(), guarded?.stop()]);
  tree?.cleanup();
  console.log(`attack suite status codes:\n${figures.map(([n, s]) => `  ${String(s).padEnd(4)} ${n}`).join('\n')}`);
});

describe('DNS rebinding: Host must be loopback, the bound address or a configured name', () => {
  it.each([
    ['evil.example', 403],
    ['127.0.0.1.nip.io', 403],
    ['localhost.evil.example', 403],
    ['10.0.0.1', 403],
  ])('HTTP with Host %j → %i', async (name, want) => {
    const host = `${name}:${plain.port}`;
    const r = await httpGet(plain.port, '/api/health', { host });
    seen(`HTTP Host ${JSON.stringify(host)}`, r.status);
    expect(r.status).toBe(want);
    // The refused name is never echoed into the CSP.
    expect(r.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an empty Host → 403; no Host at all → 400 (HTTP/1.1 requires one)', async () => {
    const raw = async (head: string): Promise<number> => {
      const sock = connect(plain.port, '127.0.0.1');
      sock.write(`GET /api/health HTTP/1.1\r\n${head}Connection: close\r\n\r\n`);
      let text = '';
      for await (const chunk of sock) text += String(chunk);
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    };
    const empty = await raw('Host: \r\n');
    const none = await raw('');
    seen('HTTP with an empty Host', empty);
    seen('HTTP with no Host', none);
    expect(empty).toBe(403);
    expect(none).toBe(400);
  });

  it.each([`127.0.0.1`, `localhost`, `[::1]`, `127.0.0.2`])('HTTP with loopback Host %s → 200', async (name) => {
    const r = await httpGet(plain.port, '/api/health', { host: `${name}:${plain.port}` });
    expect(r.status).toBe(200);
  });

  it('a configured name (--allow-host) is served', async () => {
    const r = await httpGet(guarded.port, '/api/health', { host: `netscope.lan:${guarded.port}`, authorization: `Bearer ${TOKEN}` });
    seen('HTTP Host netscope.lan (--allow-host) + token', r.status);
    expect(r.status).toBe(200);
  });

  it('WS upgrade with a rebinding Host → 403, even with a matching Origin', async () => {
    const host = `evil.example:${plain.port}`;
    const a = await wsAttempt(plain.port, { host, origin: `http://${host}` });
    seen('WS Host evil.example, Origin http://evil.example:PORT', a.status);
    expect(a.status).toBe(403);
  });
});

describe('cross-site WebSocket hijacking: Origin must be exactly scheme://host:port', () => {
  it('the page’s own origin → 101, then hello and a snapshot', async () => {
    const a = keep(await wsAttempt(plain.port, { origin: plain.origin }));
    seen('WS Origin = served origin', a.status);
    expect(a.status).toBe(101);
    await waitFor(() => a.messages.some((m) => m.type === 'snapshot'), 5000, 'a snapshot');
    expect(a.messages[0]?.type).toBe('hello');
  });

  it('no Origin at all (a non-browser client cannot be a cross-site page) → 101', async () => {
    const a = keep(await wsAttempt(plain.port, {}));
    seen('WS without Origin (no token configured)', a.status);
    expect(a.status).toBe(101);
  });

  const cases: Array<[string, (port: number) => string, string?]> = [
    ['an evil site', () => 'http://evil.example'],
    ['an evil site on our port', (p) => `http://evil.example:${p}`],
    ['another port on localhost', (p) => `http://127.0.0.1:${p + 1}`],
    ['another port on localhost (name)', (p) => `http://localhost:${p === 65535 ? 1 : p + 1}`, 'localhost'],
    ['the other loopback name for the same port', (p) => `http://localhost:${p}`],
    ['IPv6 loopback for the same port', (p) => `http://[::1]:${p}`],
    ['another 127/8 address', (p) => `http://127.0.0.2:${p}`],
    ['https instead of http', (p) => `https://127.0.0.1:${p}`],
    ['a sandboxed iframe or file:// page', () => 'null'],
    ['a path on the origin', (p) => `http://127.0.0.1:${p}/x`],
    ['a port-less origin', () => 'http://127.0.0.1'],
  ];
  it.each(cases)('%s → 403', async (name, origin, hostName) => {
    const o = origin(plain.port);
    const a = await wsAttempt(plain.port, { origin: o, ...(hostName ? { host: `${hostName}:${plain.port}` } : {}) });
    seen(`WS Origin ${name} (${o.replace(String(plain.port), 'PORT').replace(String(plain.port + 1), 'PORT+1')})`, a.status);
    expect(a.status).toBe(403);
  });

  it('a configured --allow-origin → 101 (with the token)', async () => {
    const a = keep(await wsAttempt(guarded.port, { origin: 'https://noc.example', headers: { authorization: `Bearer ${TOKEN}` } }));
    seen('WS Origin on --allow-origin + token', a.status);
    expect(a.status).toBe(101);
  });

  it('a path other than /ws → 404', async () => {
    const a = await wsAttempt(plain.port, { path: '/api/health' });
    seen('WS upgrade on /api/health', a.status);
    expect(a.status).toBe(404);
  });
});

describe('no CORS for foreign origins, and the security headers', () => {
  it('a foreign Origin gets no Access-Control-Allow-* headers (allowlist included: never *)', async () => {
    for (const [agent, origin, headers] of [
      [plain, 'http://evil.example', {}],
      [guarded, 'https://noc.example', { authorization: `Bearer ${TOKEN}` }],
    ] as const) {
      const get = await httpGet(agent.port, '/api/snapshot', { origin, ...headers });
      expect(get.status).toBe(200);
      const pre = await httpGet(agent.port, '/api/snapshot', { origin, 'access-control-request-method': 'GET', ...headers }, { method: 'OPTIONS' });
      for (const r of [get, pre]) {
        const cors = Object.keys(r.headers).filter((h) => h.startsWith('access-control-'));
        expect(cors).toEqual([]);
      }
      seen(`GET /api/snapshot with Origin ${origin}: ACAO header`, get.headers['access-control-allow-origin'] ?? 'none');
    }
  });

  it('CSP without inline script or eval, connect-src naming the ws URL, frame-ancestors none, no-referrer, nosniff', async () => {
    for (const path of ['/', '/api/health', '/no/such/page']) {
      const r = await httpGet(plain.port, path);
      const csp = String(r.headers['content-security-policy']);
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(csp).not.toMatch(/unsafe-eval|wasm-unsafe-eval/);
      expect(directives.get('script-src')?.join(' ')).not.toMatch(/unsafe-inline/);
      expect(directives.get('connect-src')).toContain(`ws://127.0.0.1:${plain.port}`);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('a malformed path → 400 with no stack trace, and nothing logged', async () => {
    const before = plain.stderr().length;
    const r = await httpGet(plain.port, '/%');
    seen('GET /% (malformed escape)', r.status);
    expect(r.status).toBe(400);
    expect(r.body).not.toMatch(/at |node_modules|Error/);
    expect(plain.stderr().length).toBe(before);
  });
});

describe('token: required for HTTP and /ws, exchanged once for a cookie, failures rate limited', () => {
  it.each([
    ['no token', 401, {}],
    ['a wrong bearer token', 401, { authorization: 'Bearer not-the-token-but-long-enough' }],
    ['the token with one character changed', 401, { authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ['the token as Basic auth', 401, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
    ['the raw token as the cookie', 401, { cookie: `netscope_session_PORT=${TOKEN}` }],
    ['the right bearer token', 200, { authorization: `Bearer ${TOKEN}` }],
  ])('HTTP with %s → %i', async (name, want, headers: Record<string, string>) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('PORT', String(guarded.port))]));
    const r = await httpGet(guarded.port, '/api/health', h, { localAddress: '127.0.0.3' });
    seen(`HTTP ${name}`, r.status);
    expect(r.status).toBe(want);
  });

  it('?token= is exchanged once for an HttpOnly, SameSite=Strict, port-specific cookie and stripped from the URL', async () => {
    const r = await httpGet(guarded.port, `/connections?sort=state&token=${encodeURIComponent(TOKEN)}`, {}, { localAddress: '127.0.0.3' });
    seen('GET /connections?token=RIGHT', r.status);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/connections?sort=state');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^netscope_session_${guarded.port}=`));
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const pair = cookie.split(';')[0]!;
    const withCookie = await httpGet(guarded.port, '/api/health', { cookie: pair }, { localAddress: '127.0.0.3' });
    seen('HTTP with the session cookie', withCookie.status);
    expect(withCookie.status).toBe(200);
    const ws = keep(await wsAttempt(guarded.port, { origin: guarded.origin, headers: { cookie: pair }, localAddress: '127.0.0.3' }));
    seen('WS with the session cookie and own Origin', ws.status);
    expect(ws.status).toBe(101);
    // The cookie of another port's agent is not ours.
    const other = pair.replace(`_${guarded.port}=`, `_${plain.port}=`);
    const wrongPort = await httpGet(guarded.port, '/api/health', { cookie: other }, { localAddress: '127.0.0.3' });
    expect(wrongPort.status).toBe(401);
  });

  it('/api/connections (the paged rows and their export) and the /processes, /listening, /remote tables need the token like every other API', async () => {
    for (const path of ['/api/connections?sort=local', '/api/connections?format=csv', '/api/processes', '/api/listening', '/api/remote?sort=address']) {
      const denied = await httpGet(guarded.port, path, {}, { localAddress: '127.0.0.5' });
      seen(`GET ${path} without the token`, denied.status);
      expect(denied.status).toBe(401);
      const ok = await httpGet(guarded.port, path, { authorization: `Bearer ${TOKEN}` }, { localAddress: '127.0.0.5' });
      expect(ok.status).toBe(200);
      expect(ok.body).not.toContain(TOKEN);
    }
  });

  it('?token= with a path that would redirect off-site stays on this origin', async () => {
    const r = await httpGet(guarded.port, `/.//evil.example/?token=${encodeURIComponent(TOKEN)}`, {}, { localAddress: '127.0.0.3' });
    expect(r.status).toBe(303);
    expect(r.headers.location).toMatch(/^\/[^/\\]/);
  });

  it('?token=wrong → 401', async () => {
    const r = await httpGet(guarded.port, '/?token=wrong-wrong-wrong-wrong-wrong', {}, { localAddress: '127.0.0.4' });
    seen('GET /?token=WRONG', r.status);
    expect(r.status).toBe(401);
  });

  it.each([
    ['no token', 401, {}],
    ['a wrong token', 401, { authorization: 'Bearer wrong-wrong-wrong-wrong-wrong' }],
    ['the right token', 101, { authorization: `Bearer ${TOKEN}` }],
  ])('WS with %s → %i', async (name, want, headers: Record<string, string>) => {
    const a = keep(await wsAttempt(guarded.port, { headers, localAddress: '127.0.0.5' }));
    seen(`WS with ${name}`, a.status);
    expect(a.status).toBe(want);
  });

  it('the ws URL never carries the token: /ws?token= is not accepted', async () => {
    const a = await wsAttempt(guarded.port, { path: `/ws?token=${TOKEN}`, localAddress: '127.0.0.5' });
    seen('WS /ws?token=RIGHT (token in URL)', a.status);
    expect(a.status).toBe(401);
  });

  it('after 10 failures an address gets 429 for a minute, even with the right token; others are unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await httpGet(guarded.port, '/api/health', { authorization: `Bearer wrong-${i}-xxxxxxxxxxxxxxxxxxxxx` }, { localAddress: '127.0.0.9' })).status);
    }
    expect(statuses).toEqual(Array(10).fill(401));
    const blocked = await httpGet(guarded.port, '/api/health', { authorization: `Bearer ${TOKEN}` }, { localAddress: '127.0.0.9' });
    const blockedWs = await wsAttempt(guarded.port, { headers: { authorization: `Bearer ${TOKEN}` }, localAddress: '127.0.0.9' });
    const other = await httpGet(guarded.port, '/api/health', { authorization: `Bearer ${TOKEN}` }, { localAddress: '127.0.0.10' });
    seen('HTTP 11th attempt after 10 failures (right token)', blocked.status);
    seen('WS after 10 failures (right token)', blockedWs.status);
    seen('HTTP from another address meanwhile', other.status);
    expect(blocked.status).toBe(429);
    expect(blockedWs.status).toBe(429);
    expect(other.status).toBe(200);
  });

  it('the token never appears in the agent’s output or its command line', () => {
    expect(guarded.stdout() + guarded.stderr()).not.toContain(TOKEN);
    const cmdline = readFileSync(`/proc/${guarded.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(TOKEN);
    expect(cmdline).toContain('--token ***');
  });
});

describe('WebSocket limits', () => {
  it('a client frame over maxPayload (4 KiB) is refused with close code 1009', async () => {
    const a = keep(await wsAttempt(plain.port, { localAddress: '127.0.0.20' }));
    expect(a.status).toBe(101);
    a.ws!.send(JSON.stringify({ type: 'resync', pad: 'x'.repeat(8192) }));
    const code = await a.closed;
    seen('WS 8 KiB client frame: close code', code);
    expect(code).toBe(1009);
  });

  it('16 clients per address, 64 in all: the next one gets 503', async () => {
    const perAddress: WsAttempt[] = [];
    for (let i = 0; i < 16; i++) perAddress.push(keep(await wsAttempt(plain.port, { localAddress: '127.0.0.30' })));
    expect(perAddress.map((a) => a.status)).toEqual(Array(16).fill(101));
    const seventeenth = await wsAttempt(plain.port, { localAddress: '127.0.0.30' });
    seen('WS 17th client from one address', seventeenth.status);
    expect(seventeenth.status).toBe(503);

    // Fill the agent to 64 from other addresses (some are already open from earlier tests).
    const health = JSON.parse((await httpGet(plain.port, '/api/health')).body) as { clients: number };
    let need = 64 - health.clients;
    let addr = 31;
    while (need > 0) {
      const n = Math.min(need, 16);
      for (let i = 0; i < n; i++) expect(keep(await wsAttempt(plain.port, { localAddress: `127.0.0.${addr}` })).status).toBe(101);
      need -= n;
      addr++;
    }
    const over = await wsAttempt(plain.port, { localAddress: '127.0.0.99' });
    seen('WS 65th client (new address)', over.status);
    expect(over.status).toBe(503);
    // HTTP still answers while the stream is full.
    expect((await httpGet(plain.port, '/api/health')).status).toBe(200);
    // One leaves → one more may join.
    const leaving = perAddress[0]!.ws!;
    leaving.close();
    await waitFor(() => leaving.readyState === WebSocket.CLOSED, 5000, 'close');
    await new Promise((r) => setTimeout(r, 100));
    const again = keep(await wsAttempt(plain.port, { localAddress: '127.0.0.99' }));
    expect(again.status).toBe(101);
  });
});

describe('connection floods', () => {
  it('idle TCP connections from one address: capped at 256, closed within ~11 s; other addresses served; fds bounded', async () => {
    const fdsBefore = readdirSync(`/proc/${plain.pid}/fd`).length;
    const socks: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 300; i++) {
      const s = connect({ port: plain.port, host: '127.0.0.1', localAddress: '127.0.0.70' });
      s.on('error', () => {});
      s.on('close', () => closed++);
      socks.push(s);
    }
    await waitFor(() => closed >= 44, 5000, 'connections over the per-address cap to be refused');
    const other = await httpGet(plain.port, '/api/health', {}, { localAddress: '127.0.0.71' });
    const fdsDuring = readdirSync(`/proc/${plain.pid}/fd`).length;
    seen('HTTP from another address during a 300-connection idle flood', other.status);
    expect(other.status).toBe(200);
    expect(fdsDuring - fdsBefore).toBeLessThanOrEqual(256 + 8);
    const t0 = Date.now();
    await waitFor(() => closed === 300, 15_000, 'idle connections to be closed');
    seen('idle flood: all 300 closed by the agent after (s)', Math.round((Date.now() - t0) / 1000));
    for (const s of socks) s.destroy();
  }, 30_000);
});

describe('binding beyond loopback', () => {
  it.each([
    ['--host 0.0.0.0', ['--host', '0.0.0.0'], {}],
    ['--host ::', ['--host', '::'], {}],
    ['NETSCOPE_HOST=0.0.0.0', [], { NETSCOPE_HOST: '0.0.0.0' }],
    ['--host 192.0.2.1', ['--host', '192.0.2.1'], {}],
  ])('%s without a token exits 2 and says why and how', async (name, args, env) => {
    const r = await runAgent([...tree.args, '--port', '0', ...args], { env });
    seen(`open bind ${name} without token: exit code`, r.code ?? 'signal');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to bind .* without --token/);
    expect(r.stderr).toMatch(/NETSCOPE_TOKEN/);
    expect(r.stderr).toMatch(/SSH tunnel/);
    expect(r.stdout).not.toMatch(/serving/);
  });

  it('a token shorter than 128 bits is refused (flag or env), and not echoed', async () => {
    const short = 'short-token-123456789';
    for (const [args, env] of [
      [['--token', short], {}],
      [[], { NETSCOPE_TOKEN: short }],
    ] as const) {
      const r = await runAgent([...tree.args, '--port', '0', ...args], { env });
      seen(`token of ${short.length} characters: exit code`, r.code ?? 'signal');
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/too short.*128/);
      expect(r.stderr + r.stdout).not.toContain(short);
    }
  });

  it('a plain-HTTP bind beyond loopback with a token warns (in an isolated network namespace)', async (ctx) => {
    try {
      execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs CAP_SYS_ADMIN; the bind must not reach a real network
    }
    const a = await startAgent([...tree.args, '--host', '0.0.0.0', '--port', '0'], {
      env: { NETSCOPE_TOKEN: TOKEN },
      wrapper: ['unshare', '-n', '--'],
    });
    try {
      await waitFor(() => /WARNING/.test(a.stderr()), 5000, 'the plain-HTTP warning');
      expect(a.stderr()).toMatch(/WARNING serving plain HTTP on 0\.0\.0\.0/);
      expect(a.stdout() + a.stderr()).not.toContain(TOKEN);
    } finally {
      await a.stop();
    }
  });

  it('--tls-cert/--tls-key serve HTTPS: Secure cookie, wss in the CSP, https Origin accepted', async (ctx) => {
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', join(tree.dir, 'key.pem'), '-out', join(tree.dir, 'cert.pem'),
      ], { stdio: 'ignore' });
    } catch {
      ctx.skip();
    }
    const a = await startAgent([...tree.args, '--port', '0', '--token', TOKEN, '--tls-cert', join(tree.dir, 'cert.pem'), '--tls-key', join(tree.dir, 'key.pem')]);
    try {
      expect(a.origin).toMatch(/^https:/);
      const res = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: a.port, path: `/?token=${TOKEN}`, rejectUnauthorized: false, agent: false },
          (r) => {
            r.resume();
            resolve({ status: r.statusCode ?? 0, headers: r.headers });
          },
        );
        req.on('error', reject);
        req.end();
      });
      seen('HTTPS GET /?token=RIGHT', res.status);
      expect(res.status).toBe(303);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
      expect(String(res.headers['content-security-policy'])).toContain(`wss://127.0.0.1:${a.port}`);
      const ok = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`wss://127.0.0.1:${a.port}/ws`, { origin: `https://127.0.0.1:${a.port}`, headers: { authorization: `Bearer ${TOKEN}` }, rejectUnauthorized: false });
        ws.once('upgrade', () => {
          resolve(101);
          ws.terminate();
        });
        ws.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
        ws.once('error', () => resolve(0));
      });
      seen('WSS with https Origin + token', ok);
      expect(ok).toBe(101);
      const http = await wsAttempt(a.port, { origin: `http://127.0.0.1:${a.port}` }).catch(() => null);
      expect(http?.status).not.toBe(101);
    } finally {
      await a.stop();
    }
  });
});

describe('the token on a live /proc', () => {
  it('no process command line in the snapshot shows the token (the agent masks its own argv)', async () => {
    const a = await startAgent(['--port', '0', '--interval', '5000', '--token', TOKEN], { timeoutMs: 60_000 });
    try {
      const r = await httpGet(a.port, '/api/snapshot', { authorization: `Bearer ${TOKEN}` });
      expect(r.status).toBe(200);
      expect(r.body).not.toContain(TOKEN);
      const snap = JSON.parse(r.body) as Snapshot;
      const self = snap.processes[String(a.pid)];
      if (self) expect(self.cmdline).toContain('--token ***');
    } finally {
      await a.stop();
    }
  }, 90_000);
});
