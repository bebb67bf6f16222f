/**
 * GET /api/connections on the real agent and real loopback sockets: the rows for a port are the
 * kernel's (checked against `ss -tan`), owned by this process; a window at a time adds up to the
 * whole; a connection that opens is marked fresh, one that closes lingers as a ghost and goes.
 */
import net from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_HOLD_MS, type ConnectionsPage } from '@netscope/shared';
import { startAgent, type RunningAgent } from '../security/helpers/agent.js';

let agent: RunningAgent;
let server: net.Server;
let port: number;
const held: net.Socket[] = [];

beforeAll(async () => {
  agent = await startAgent(['--port', '0', '--interval', '250'], { timeoutMs: 120_000 });
  server = net.createServer((s) => held.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
}, 130_000);
afterAll(async () => {
  for (const s of held) s.destroy();
  server?.close();
  await agent?.stop();
});

async function get(query: string): Promise<ConnectionsPage> {
  const res = await fetch(`${agent.origin}/api/connections?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ConnectionsPage;
}

/** Poll until `ok` holds for an answer (the agent ticks every 250 ms; a slow machine stretches it). */
async function until(query: string, ok: (p: ConnectionsPage) => boolean, ms = 30_000): Promise<ConnectionsPage> {
  const deadline = Date.now() + ms;
  let last: ConnectionsPage | null = null;
  while (Date.now() < deadline) {
    last = await get(query);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not met in ${ms} ms; last answer: ${JSON.stringify(last).slice(0, 2000)}`);
}

const row = (s: ConnectionsPage['items'][number]) => (s.proto === 'unix' ? '' : `${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort} ${s.state}`);

describe('GET /api/connections on live sockets', () => {
  it('the rows of a port are the kernel\'s, with their owner; windows add up to the whole', async () => {
    const client = net.connect({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    const local = client.localPort!;
    const q = `port=${port}&proc=${process.pid}&sort=local`;
    const page = await until(q, (p) => p.matched === 3);
    const got = page.items.map(row).sort();
    expect(got).toEqual(
      [`127.0.0.1:${port} 0.0.0.0:0 LISTEN`, `127.0.0.1:${local} 127.0.0.1:${port} ESTABLISHED`, `127.0.0.1:${port} 127.0.0.1:${local} ESTABLISHED`].sort(),
    );
    for (const s of page.items) expect(s.pid).toBe(process.pid);
    expect(page.processes[String(process.pid)]?.cmdline).toBeTruthy();
    // The same three from ss (no owners: ss -p is slow here). The listener and the pair by their
    // exact ends only: the page is this process's, and another test's socket may use the same port
    // number on other addresses (seen: 127.0.0.1:42325 → 127.0.0.70:<port>), or be a TIME_WAIT left
    // on 127.0.0.1 by a connection to an earlier listener on this port.
    const ends = new Set([`127.0.0.1:${port}`, `127.0.0.1:${local}`]);
    const ss = execFileSync('ss', ['-tanH', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => (f[3] === `127.0.0.1:${port}` && f[4] === '0.0.0.0:*') || (ends.has(f[3]!) && ends.has(f[4]!) && f[3] !== f[4]));
    expect(ss.map((f) => `${f[3]} ${f[4]}`).sort()).toEqual(page.items.map((s) => row(s).replace(/ \S+$/, '').replace(' 0.0.0.0:0', ' 0.0.0.0:*')).sort());
    // One row per window, in the same order as the whole.
    const seq = page.seq;
    const windows: string[] = [];
    for (let offset = 0; offset < 3; offset++) {
      const w = await get(`${q}&seq=${seq}&offset=${offset}&limit=1`);
      expect(w.seq).toBe(seq);
      windows.push(...w.items.map((s) => s.id));
    }
    expect(windows).toEqual(page.items.map((s) => s.id));
    // The export: a header and the three rows.
    const csv = await (await fetch(`${agent.origin}/api/connections?${q}&format=csv`)).text();
    expect(csv.trim().split('\r\n')).toHaveLength(4);
    client.destroy();
  }, 60_000);

  it('a new connection is marked fresh; a closed one lingers as a ghost, then goes', async () => {
    const q = `port=${port}&proc=${process.pid}&state=ESTABLISHED&limit=100`;
    await get(q); // the page is open from here on
    const client = net.connect({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    const local = client.localPort!;
    const mine = (p: ConnectionsPage) => p.items.filter((s) => s.proto !== 'unix' && (s.localPort === local || s.remotePort === local));
    const fresh = await until(q, (p) => mine(p).length === 2 && mine(p).every((s) => p.freshIds.includes(s.id)));
    const ids = mine(fresh).map((s) => s.id);
    // Fresh only for CHANGE_HOLD_MS.
    await until(q, (p) => mine(p).length === 2 && mine(p).every((s) => !p.freshIds.includes(s.id)), CHANGE_HOLD_MS + 20_000);

    client.destroy();
    for (const s of held) s.destroy();
    // Both ends were ESTABLISHED when last seen: ghosts that still pass the state filter.
    const ghost = await until(q, (p) => ids.every((id) => p.closedIds.includes(id)));
    expect(ghost.closedCount).toBeGreaterThanOrEqual(2);
    expect(ghost.items.filter((s) => ids.includes(s.id)).map((s) => s.state)).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    const gone = await until(q, (p) => !p.items.some((s) => ids.includes(s.id)), CHANGE_HOLD_MS + 20_000);
    expect(gone.closedIds.filter((id) => ids.includes(id))).toEqual([]);
  }, 90_000);

  it('bad parameters: 400 with a message that names them', async () => {
    const cases: [string, string][] = [
      ['limit=5000', 'limit must be at most 1000'],
      ['nope=1', 'unknown parameter "nope"'],
      ['sort=colour', 'sort must be one of'],
      ['seq=99999999', 'no longer held'],
    ];
    for (const [query, text] of cases) {
      const res = await fetch(`${agent.origin}/api/connections?${query}`);
      expect(res.status).toBe(query.startsWith('seq') ? 410 : 400);
      expect(((await res.json()) as { error: string }).error).toContain(text);
    }
  });

  it.runIf(existsSync('/etc/services'))('a port filter by service name: resolved through /etc/services; an unknown name is reported', async () => {
    // `www` is an alias of http (80/tcp): the same rows as port 80, whatever name each row shows.
    // All on one snapshot (seq=): sockets come and go between ticks.
    const all = await get("");
    const byNumber = await get(`port=80,22&seq=${all.seq}`);
    const byName = await get(`port=www,ssh&seq=${all.seq}`);
    expect(byName.problems).toEqual([]);
    expect(byName.items.map((s) => s.id)).toEqual(byNumber.items.map((s) => s.id));
    const unknown = await get(`port=99999-abc&seq=${all.seq}`);
    expect(unknown.problems).toEqual(['port “99999-abc” is not a port, range or service name (no such name in /etc/services)']);
    // The part it could not use is left out, not turned into "no sockets match".
    expect(unknown.matched).toBe(all.matched);
  });

  it('the /processes, /listening and /remote tables: this process, its listener, a peer on 127.0.0.2', async () => {
    const client = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    await once(client, 'connect');
    try {
      const json = async <T>(path: string): Promise<T> => {
        const res = await fetch(`${agent.origin}${path}`);
        expect(res.status).toBe(200);
        return (await res.json()) as T;
      };
      type Row = { pid: number | null; listening: string[]; byProto: { t: number } };
      const deadline = Date.now() + 30_000;
      let me: Row | undefined;
      let peer: { address: string; total: number; localPorts: [number, number][]; programs: string[] } | undefined;
      while (Date.now() < deadline) {
        me = (await json<{ rows: Row[] }>('/api/processes')).rows.find((r) => r.pid === process.pid);
        peer = (await json<{ rows: NonNullable<typeof peer>[] }>('/api/remote?q=127.0.0.2')).rows[0];
        // The accepted socket is in the tables from the handshake on, but has an owner only once
        // node has accept()ed it, a tick or so later (its peer row does not wait for that): wait for both.
        if (me?.listening.includes(`tcp/${port}`) && me.byProto.t >= 3 && peer !== undefined && peer.localPorts.some(([p]) => p === port)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(me?.listening).toContain(`tcp/${port}`);
      expect(me!.byProto.t).toBeGreaterThanOrEqual(3);
      // The kernel's count of sockets whose peer is 127.0.0.2, and ours.
      const ss = execFileSync('ss', ['-tanH', 'dst', '127.0.0.2'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
      expect(peer).toMatchObject({ address: '127.0.0.2', total: ss });
      expect(peer!.localPorts).toContainEqual([port, 1]);
      expect(peer!.programs).toContain('node');
      const listening = await json<{ rows: { port: number; address: string; pid: number | null }[] }>('/api/listening');
      expect(listening.rows).toContainEqual(expect.objectContaining({ port, address: '127.0.0.1', pid: process.pid }));
      expect((await fetch(`${agent.origin}/api/remote?sort=nope`)).status).toBe(400);
    } finally {
      client.destroy();
    }
  });
});
