/**
 * GET /api/processes, /api/listening and /api/remote (AggregateViews): the rows for a known socket
 * set, made once per snapshot, in slices; every bad parameter a 400 naming it.
 */
import { describe, expect, it } from 'vitest';
import type { InetSocket, Snapshot, Socket } from '@netscope/shared';
import { AggregateViews, type ViewAnswer } from '../../src/server/views.js';
import { inet, snapshot, unix } from '../../../../packages/shared/test/fixtures.js';

function body<T>(a: ViewAnswer<T>): T {
  if (a.status !== 200) throw new Error(`expected 200, got ${a.status}: ${a.error}`);
  return a.body;
}

const SOCKETS: Socket[] = [
  inet(443, { state: 'LISTEN', stateCode: 10, remoteAddress: '0.0.0.0', remotePort: 0, pid: 100, program: 'nginx', localAddress: '0.0.0.0', localService: 'https' }),
  inet(40001, { localPort: 443, remoteAddress: '203.0.113.9', remotePort: 40001, pid: 100, program: 'nginx' }),
  inet(40002, { localPort: 443, remoteAddress: '203.0.113.9', remotePort: 40002, pid: 100, program: 'nginx', state: 'SYN_RECV', stateCode: 3 }),
  inet(40003, { localPort: 443, remoteAddress: '10.1.2.3', remotePort: 40003, pid: 100, program: 'nginx' }),
  inet(40004, { localPort: 443, remoteAddress: '10.1.2.3', remotePort: 40004, pid: null, program: null, inode: 0, state: 'TIME_WAIT', stateCode: 6 }),
  inet(5432, { localPort: 5432, remoteAddress: '127.0.0.1', remotePort: 50000, pid: 200, program: 'postgres' }),
  inet(53, { proto: 'udp', localAddress: '127.0.0.53', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0, state: 'CLOSE', stateCode: 7, pid: 300, program: 'systemd-resolve' }),
  inet(1, { proto: 'raw', localPort: 1, remoteAddress: '0.0.0.0', remotePort: 0, state: 'CLOSE', stateCode: 7, pid: null, program: null, inode: 77 }),
  unix(9000, { pid: 200, program: 'postgres', state: 'LISTENING', acceptCon: true, path: '/run/pg.sock' }),
];

function setup(snap: Snapshot | null) {
  let current = snap;
  return { views: new AggregateViews(() => current), set: (s: Snapshot | null) => (current = s) };
}

const SNAP = snapshot(7, {
  sockets: SOCKETS,
  processes: {
    '100': { pid: 100, program: 'nginx', cmdline: 'nginx: master process', uid: 0, user: 'root', socketCount: 4 },
    '200': { pid: 200, program: 'postgres', cmdline: '/usr/lib/postgresql/bin/postgres', uid: 105, user: 'postgres', socketCount: 2 },
  },
});

describe('GET /api/processes', () => {
  it('one row per owner and per kind of unowned socket, most sockets first', async () => {
    const { views } = setup(SNAP);
    const page = body(await views.processes({}));
    expect(page.seq).toBe(7);
    expect(page.rows.map((r) => [r.key, r.total])).toEqual([
      ['pid:100', 4],
      ['pid:200', 2],
      // ties by pid, the unowned (no pid) first
      ['unowned:kernel', 1],
      ['unowned:unseen', 1],
      ['pid:300', 1],
    ]);
    const nginx = page.rows[0]!;
    expect(nginx).toMatchObject({ program: 'nginx', user: 'root', cmdline: 'nginx: master process', listening: ['tcp/443'], peers: 2, byProto: { t: 4, u: 0, w: 0, x: 0 } });
    expect(nginx.states).toEqual({ LISTEN: 1, ESTABLISHED: 2, SYN_RECV: 1 });
    expect(page.rows.find((r) => r.key === 'pid:200')).toMatchObject({ byProto: { t: 1, u: 0, w: 0, x: 1 }, user: 'postgres' });
    expect(page.rows.find((r) => r.key === 'unowned:unseen')).toMatchObject({ program: '(owner not visible)', pid: null, unowned: 'unseen' });
  });

  it('made once per snapshot: a second ask is served from it', async () => {
    const { views, set } = setup(SNAP);
    const a = body(await views.processes({}));
    const b = body(await views.processes({}));
    expect(b.rows).toBe(a.rows);
    expect(b.ms).toBe(0);
    set({ ...SNAP, seq: 8, sockets: SOCKETS.slice(1) });
    const c = body(await views.processes({}));
    expect(c.rows).not.toBe(a.rows);
    expect(c.seq).toBe(8);
    expect(c.rows.find((r) => r.key === 'pid:100')!.listening).toEqual([]);
  });

  it('a tick with the same sockets but a new process record (setproctitle) shows the new command line', async () => {
    const { views, set } = setup(SNAP);
    body(await views.processes({}));
    set({ ...SNAP, seq: 8, processes: { ...SNAP.processes, '100': { ...SNAP.processes['100']!, cmdline: 'nginx: worker process' } } });
    const page = body(await views.processes({}));
    expect(page.rows.find((r) => r.key === 'pid:100')!.cmdline).toBe('nginx: worker process');
  });

  it('no snapshot yet: 503; any parameter: 400 naming it', async () => {
    expect(await setup(null).views.processes({})).toEqual({ status: 503, error: 'no snapshot collected yet' });
    const bad = await setup(SNAP).views.processes({ sort: 'pid' });
    expect(bad.status).toBe(400);
    expect(bad).toMatchObject({ error: expect.stringContaining('"sort"') });
  });

  it('yields to the event loop while tallying 200k sockets', async () => {
    const many: Socket[] = [];
    for (let i = 0; i < 200_000; i++) many.push(inet(10_000 + (i % 50_000), { remoteAddress: `10.0.${(i >> 8) & 255}.${i & 255}`, pid: 1000 + (i % 40), inode: i + 1 }));
    const { views } = setup(snapshot(1, { sockets: many }));
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    const page = body(await views.processes({}));
    done = true;
    expect(page.rows).toHaveLength(40);
    expect(page.rows.reduce((n, r) => n + r.total, 0)).toBe(200_000);
    expect(turns).toBeGreaterThan(1);
  });
});

describe('GET /api/listening', () => {
  it('TCP LISTEN, unconnected UDP and raw, by port', async () => {
    const page = body(await setup(SNAP).views.listening({}));
    expect(page.rows.map((l) => `${l.proto} ${l.address}:${l.port} ${l.scope} ${l.pid ?? '-'}/${l.program ?? '-'}`)).toEqual([
      'raw 127.0.0.1:1 loopback -/-',
      'udp 127.0.0.53:53 loopback 300/systemd-resolve',
      'tcp 0.0.0.0:443 all 100/nginx',
    ]);
    expect(page.rows[2]!.service).toBe('https');
  });

  it('any parameter: 400', async () => {
    expect((await setup(SNAP).views.listening({ q: 'x' })).status).toBe(400);
  });
});

describe('GET /api/remote', () => {
  it('peers ranked by connections, with the totals over every peer', async () => {
    const page = body(await setup(SNAP).views.remote({}));
    expect(page.rows.map((r) => [r.address, r.total, r.scope])).toEqual([
      ['203.0.113.9', 2, 'public'],
      ['10.1.2.3', 2, 'private'],
      ['127.0.0.1', 1, 'loopback'],
    ]);
    expect(page).toMatchObject({ total: 3, matched: 3, connections: 5, synTotal: 1 });
    expect(page.rows[0]!.states).toEqual({ ESTABLISHED: 1, SYN_RECV: 1 });
    expect(page.rows[0]!.localPorts).toEqual([[443, 2]]);
  });

  it('q (address, prefix or CIDR), scope, sort, dir and limit', async () => {
    const { views } = setup(SNAP);
    const addrs = async (q: Record<string, string>) => body(await views.remote(q)).rows.map((r) => r.address);
    expect(await addrs({ q: '10.0.0.0/8' })).toEqual(['10.1.2.3']);
    expect(await addrs({ q: '203.0.' })).toEqual(['203.0.113.9']);
    expect(await addrs({ scope: 'loopback' })).toEqual(['127.0.0.1']);
    expect(await addrs({ scope: 'private' })).toEqual(['10.1.2.3']);
    expect(await addrs({ sort: 'address' })).toEqual(['10.1.2.3', '127.0.0.1', '203.0.113.9']);
    expect(await addrs({ sort: 'address', dir: 'desc' })).toEqual(['203.0.113.9', '127.0.0.1', '10.1.2.3']);
    expect(await addrs({ sort: 'tw' })).toEqual(['10.1.2.3', '203.0.113.9', '127.0.0.1']);
    expect(await addrs({ sort: 'total', dir: 'asc' })).toEqual(['127.0.0.1', '203.0.113.9', '10.1.2.3']);
    const cut = body(await views.remote({ limit: '1' }));
    expect(cut.rows.map((r) => r.address)).toEqual(['203.0.113.9']);
    expect(cut.matched).toBe(3);
    expect(body(await views.remote({ q: '198.51.100.0/24' }))).toMatchObject({ rows: [], matched: 0, total: 3 });
  });

  it.each([
    [{ sort: 'bogus' }, /sort must be one of address, total/],
    [{ dir: 'up' }, /dir must be asc or desc/],
    [{ scope: 'mars' }, /scope must be one of any, public/],
    [{ limit: '1001' }, /limit must be a whole number from 0 to 1000/],
    [{ limit: '-1' }, /limit must be a whole number/],
    [{ q: ['a', 'b'] }, /q must be given once/],
    [{ peer: '1.2.3.4' }, /unknown parameter "peer"; known: q, scope, sort, dir, limit/],
  ])('%o → 400', async (params, message) => {
    const a = await setup(SNAP).views.remote(params as Record<string, unknown>);
    expect(a.status).toBe(400);
    expect(a).toMatchObject({ error: expect.stringMatching(message) });
  });
});

describe('GET /api/processes/:key', () => {
  const shared = inet(6000, { localPort: 6000, remoteAddress: '198.51.100.1', remotePort: 1, pid: 200, program: 'postgres', otherPids: [100] });
  const snap = { ...SNAP, sockets: [...SOCKETS, shared] };

  it('a pid: its listeners, its other sockets (shared ones too), TCP states, peers', async () => {
    const d = body(await setup(snap).views.process('100', {}));
    expect(d).toMatchObject({ key: 'pid:100', pid: 100, unowned: null, program: 'nginx', total: 5, connectionsTotal: 4, peersTotal: 3 });
    expect(d.info?.cmdline).toBe('nginx: master process');
    expect(d.listening.map((s) => s.id)).toEqual([SOCKETS[0]!.id]);
    // Snapshot order without a sort; the socket it shares with postgres is among them.
    expect(d.connections.map((s) => (s as InetSocket).remotePort)).toEqual([40001, 40002, 40003, 1]);
    expect(d.states).toEqual({ LISTEN: 1, ESTABLISHED: 3, SYN_RECV: 1 });
    expect(d.peers.map((p) => [p.address, p.total])).toEqual([
      ['203.0.113.9', 2],
      ['10.1.2.3', 1],
      ['198.51.100.1', 1],
    ]);
  });

  it('sort and dir order the connections before the cut', async () => {
    const d = body(await setup(snap).views.process('100', { sort: 'remote', dir: 'desc' }));
    expect(d.connections.map((s) => (s as InetSocket).remoteAddress)).toEqual(['203.0.113.9', '203.0.113.9', '198.51.100.1', '10.1.2.3']);
  });

  it('the first 1000 connections of a process that holds more', async () => {
    const many: Socket[] = [];
    for (let i = 0; i < 2500; i++) many.push(inet(20_000 + i, { pid: 42, program: 'busy', remotePort: 30_000 + i }));
    const d = body(await setup(snapshot(3, { sockets: many })).views.process('42', { sort: 'remote', dir: 'desc' }));
    expect(d.connectionsTotal).toBe(2500);
    expect(d.connections).toHaveLength(1000);
    expect((d.connections[0] as InetSocket).remotePort).toBe(32_499);
    expect(d.info).toBeNull();
    expect(d.program).toBe('busy');
  });

  it('kernel and unseen: the sockets without an owner', async () => {
    const kernel = body(await setup(snap).views.process('kernel', {}));
    expect(kernel).toMatchObject({ key: 'unowned:kernel', pid: null, unowned: 'kernel', total: 1, info: null });
    expect(kernel.connections[0]!.state).toBe('TIME_WAIT');
    const unseen = body(await setup(snap).views.process('unseen', {}));
    expect(unseen).toMatchObject({ key: 'unowned:unseen', total: 1 });
    expect(unseen.listening[0]!.proto).toBe('raw');
  });

  it('a pid that holds nothing: an empty answer, not an error', async () => {
    expect(body(await setup(snap).views.process('4242', {}))).toMatchObject({ total: 0, info: null, program: null, connections: [], peers: [] });
  });

  it.each([
    ['abc', {}, /"abc" is not a pid, "kernel" or "unseen"/],
    ['100', { sort: 'nope' }, /sort must be one of proto, recvQ/],
    ['100', { dir: 'sideways' }, /dir must be asc or desc/],
    ['100', { limit: '5' }, /unknown parameter "limit"; known: sort, dir/],
  ])('%s %o → 400', async (key, params, message) => {
    const a = await setup(snap).views.process(key, params);
    expect(a.status).toBe(400);
    expect(a).toMatchObject({ error: expect.stringMatching(message) });
  });
});

describe('GET /api/remote under a flood', () => {
  it('200k distinct peers: the top rows by the order asked, every peer counted, the event loop served meanwhile', async () => {
    const flood: Socket[] = [];
    for (let i = 0; i < 200_000; i++) {
      const addr = `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
      flood.push(inet(i + 1, { localPort: 443, remoteAddress: addr, remotePort: 40_000, state: 'SYN_RECV', stateCode: 3, inode: 0 }));
    }
    // Two peers with two sockets each: the top of the ranking, ties in the order first seen.
    flood.push(inet(300_001, { localPort: 443, remoteAddress: '203.0.113.7', remotePort: 1 }), inet(300_002, { localPort: 443, remoteAddress: '203.0.113.7', remotePort: 2 }));
    flood.push(inet(300_003, { localPort: 443, remoteAddress: '198.18.0.5', remotePort: 3 }));
    const { views } = setup(snapshot(1, { sockets: flood }));
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const page = body(await views.remote({ limit: '3' }));
    done = true;
    expect(turns).toBeGreaterThan(1);
    expect(page).toMatchObject({ total: 200_001, matched: 200_001, connections: 200_003, synTotal: 200_000 });
    expect(page.rows.map((r) => [r.address, r.total])).toEqual([
      ['198.18.0.5', 2],
      ['203.0.113.7', 2],
      ['198.18.0.0', 1],
    ]);
    const byAddress = body(await views.remote({ sort: 'address', dir: 'desc', limit: '2', q: '198.18.0.0/16' }));
    expect(byAddress.matched).toBe(65_536);
    expect(byAddress.rows.map((r) => r.address)).toEqual(['198.18.255.255', '198.18.255.254']);
  });
});
