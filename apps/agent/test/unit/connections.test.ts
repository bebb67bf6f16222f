/**
 * GET /api/connections' table (ConnectionsTable) against the page's own logic: for any filter and
 * sort, the windows put end to end are the rows the page computed for itself (filterSockets, the
 * ghosts, sortSockets); change marks appear and expire with the clock; every bad parameter is a 400
 * naming it; held snapshots answer `seq=` until evicted.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CHANGE_HOLD_MS,
  CONNECTIONS_MAX_LIMIT,
  PINNED_SNAPSHOT_MS,
  compileFilter,
  filterFromQuery,
  filterSockets,
  socketsToCsv,
  sortFromQuery,
  sortSockets,
  type ConnectionsPage,
  type Snapshot,
  type Socket,
} from '@netscope/shared';
import { ACTIVE_MS, ConnectionsTable, type ConnectionsAnswer } from '../../src/server/connections.js';
import { inet, snapshot, unix } from '../../../../packages/shared/test/fixtures.js';

function setup(first: Snapshot | null) {
  let current = first;
  let clock = 1_000_000;
  const table = new ConnectionsTable(
    () => current,
    () => clock,
  );
  return {
    table,
    tick: async (next: Snapshot) => {
      const prev = current;
      current = next;
      await table.observe(next, prev);
    },
    advance: (ms: number) => (clock += ms),
    ask: async (q: Record<string, string>): Promise<ConnectionsPage> => {
      const a = await table.query(q);
      if (!('page' in a)) throw new Error(`expected a page, got ${JSON.stringify(a)}`);
      return a.page;
    },
  };
}

const pageOf = (a: ConnectionsAnswer): ConnectionsPage => {
  if (!('page' in a)) throw new Error(JSON.stringify(a));
  return a.page;
};

function zoo(n: number, seed = 0): Socket[] {
  const out: Socket[] = [];
  const states = ['ESTABLISHED', 'LISTEN', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_SENT'] as const;
  for (let i = 0; i < n; i++) {
    const k = (i * 7919 + seed) % 997;
    if (k % 11 === 0) out.push(unix(50_000 + i, { path: `/run/s${k}` }));
    else
      out.push(
        inet(2000 + i, {
          localPort: 1000 + (k % 40),
          remoteAddress: k % 3 === 0 ? '10.1.2.3' : k % 3 === 1 ? '192.168.7.9' : '::1',
          family: k % 3 === 2 ? 6 : 4,
          proto: k % 3 === 2 ? 'tcp6' : k % 5 === 0 ? 'udp' : 'tcp',
          state: states[k % states.length]!,
          recvQ: k % 4,
          pid: k % 6 === 0 ? null : 100 + (k % 5),
          program: k % 6 === 0 ? null : `p${k % 5}`,
          timer: k % 2 === 0 ? { kind: 'keepalive', code: 2, expiresAt: 1_700_000_000_000 + k * 10, retransmits: 0, probes: 0 } : { kind: 'off', code: 0, expiresAt: null, retransmits: 0, probes: 0 },
        }),
      );
  }
  return out;
}

/** The page's own computation (ConnectionsPage.vue before the table moved to the agent). */
function pageRows(snap: Snapshot, ghosts: Socket[], q: Record<string, string>): { rows: Socket[]; matched: number } {
  const f = filterFromQuery(q);
  const c = compileFilter(f, { processes: snap.processes });
  const live = filterSockets(snap.sockets, c.test);
  const all = live.concat(ghosts.filter((g) => c.test(g)));
  const sort = sortFromQuery(q.sort ?? '', q.dir ?? '');
  return { rows: sort ? sortSockets(all, sort, snap.time) : all, matched: live.length };
}

describe('ConnectionsTable', () => {
  it('windows end to end are the page-computed rows, for any filter and sort', async () => {
    const snap = snapshot(1, { sockets: zoo(900) });
    const { ask } = setup(snap);
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            proto: fc.constantFrom('t', 'u', 't,u,w,x', 'x'),
            state: fc.constantFrom('ESTABLISHED', 'LISTEN,TIME_WAIT', 'CLOSE_WAIT'),
            port: fc.constantFrom('1003', '1000-1010', 'https', 'bogus-service'),
            addr: fc.constantFrom('10.0.0.0/8', '192.168.', '::1'),
            show: fc.constantFrom('listening', 'connected'),
            sort: fc.constantFrom('local', 'remote', 'timer', 'program', 'recvQ', 'state', 'inode'),
            dir: fc.constantFrom('asc', 'desc'),
          },
          { requiredKeys: [] },
        ),
        fc.integer({ min: 1, max: 300 }),
        async (q, limit) => {
          const want = pageRows(snap, [], q);
          const got: Socket[] = [];
          let first: ConnectionsPage | null = null;
          for (let offset = 0; offset === 0 || offset < want.rows.length; offset += limit) {
            const p = await ask({ ...q, offset: String(offset), limit: String(limit) });
            first ??= p;
            expect(p.rows).toBe(want.rows.length);
            got.push(...p.items);
          }
          expect(got.map((s) => s.id)).toEqual(want.rows.map((s) => s.id));
          expect(first!.matched).toBe(want.matched);
          expect(first!.total).toBe(900);
          expect(first!.problems).toEqual(compileFilter(filterFromQuery(q), { processes: {} }).problems);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('another window of the same tick is a slice of the cached rows (ms 0)', async () => {
    const { ask } = setup(snapshot(1, { sockets: zoo(3000) }));
    const a = await ask({ sort: 'remote', limit: '50' });
    const b = await ask({ sort: 'remote', limit: '50', offset: '1000' });
    expect(b.ms).toBe(0);
    expect(a.items[0]!.id).not.toBe(b.items[0]!.id);
  });

  it('marks sockets that appeared as fresh and keeps closed ones as ghosts, for CHANGE_HOLD_MS', async () => {
    const base = zoo(200);
    const s1 = snapshot(1, { sockets: base });
    const { ask, tick, advance } = setup(s1);
    expect((await ask({})).freshIds).toEqual([]); // the first answer: nothing is "new"
    const gone = base[3]!;
    const born = inet(9999, { localPort: 1003 });
    if (gone.proto === 'unix') throw new Error('the zoo changed: pick an inet socket');
    advance(1000);
    await tick(snapshot(2, { sockets: [...base.slice(0, 3), ...base.slice(4), born] }));
    const p = await ask({ proto: 't,u,w,x', limit: '1000' });
    expect(p.seq).toBe(2);
    expect(p.freshIds).toEqual([born.id]);
    expect(p.closedIds).toEqual([gone.id]);
    expect(p.closedCount).toBe(1);
    expect(p.matched).toBe(200);
    expect(p.rows).toBe(201);
    expect(p.items.at(-1)!.id).toBe(gone.id); // unsorted: ghosts after the live rows, as the page had them
    // A filter the ghost does not pass leaves it out.
    expect((await ask({ port: '1' })).closedCount).toBe(0);
    // Sorted, the ghost takes its place in the order.
    const sorted = await ask({ proto: 't,u,w,x', sort: 'local', limit: '1000' });
    expect(sorted.items.map((s) => s.id)).toEqual(pageRows(snapshot(2, { sockets: [...base.slice(0, 3), ...base.slice(4), born] }), [gone], { proto: 't,u,w,x', sort: 'local' }).rows.map((s) => s.id));
    // Past the hold, both marks expire (the tracker is pruned on the next tick).
    advance(CHANGE_HOLD_MS + 1);
    await tick(snapshot(3, { sockets: [...base.slice(0, 3), ...base.slice(4), born] }));
    const later = await ask({ proto: 't,u,w,x', limit: '1000' });
    expect(later.freshIds).toEqual([]);
    expect(later.closedIds).toEqual([]);
    expect(later.rows).toBe(200);
  });

  it('an agent nobody pages marks nothing, and starts clean when paged again', async () => {
    const base = zoo(50);
    const { ask, tick, advance } = setup(snapshot(1, { sockets: base }));
    await ask({});
    advance(ACTIVE_MS + 1);
    await tick(snapshot(2, { sockets: base.slice(1) })); // closed while nobody looked
    const p = await ask({ proto: 't,u,w,x', limit: '1000' });
    expect(p.closedIds).toEqual([]);
    expect(p.rows).toBe(49);
  });

  it('with id=: the socket, its process and its row index; a ghost is marked closed; unknown is null', async () => {
    const base = zoo(100);
    const s1 = snapshot(1, { sockets: base, processes: { '101': { pid: 101, program: 'p1', cmdline: 'p1 --serve', uid: 0, user: 'root', socketCount: 3 } } });
    const { ask, tick } = setup(s1);
    const target = base.find((s) => s.pid === 101)!;
    const p = await ask({ proto: 't,u,w,x', sort: 'local', id: target.id });
    const want = pageRows(s1, [], { proto: 't,u,w,x', sort: 'local' }).rows.findIndex((s) => s.id === target.id);
    expect(p.selected).toMatchObject({ closed: false, index: want, process: { cmdline: 'p1 --serve' } });
    expect(p.selected!.socket.id).toBe(target.id);
    expect((await ask({ proto: 'x', id: target.id })).selected!.index).toBe(-1); // hidden by the filter
    expect((await ask({ id: 'no such socket' })).selected).toBeNull();
    await tick(snapshot(2, { sockets: base.filter((s) => s !== target) }));
    expect((await ask({ id: target.id })).selected).toMatchObject({ closed: true });
  });

  it('seq= answers from a held snapshot while newer ticks arrive; 410 once evicted', async () => {
    const base = zoo(100);
    const { ask, tick, advance, table } = setup(snapshot(1, { sockets: base }));
    const p1 = await ask({});
    for (let seq = 2; seq <= 4; seq++) {
      advance(1000);
      await tick(snapshot(seq, { sockets: base.slice(seq) }));
    }
    const held = await ask({ seq: String(p1.seq), proto: 't,u,w,x' });
    expect(held.seq).toBe(1);
    expect(held.rows).toBe(100);
    advance(PINNED_SNAPSHOT_MS + 1);
    expect(await table.query({ seq: '1' })).toMatchObject({ status: 410, error: expect.stringContaining('snapshot 1 is no longer held') });
  });

  it('format=csv and format=json: every matching live row, as the page exported them', async () => {
    const snap = snapshot(1, { sockets: zoo(300) });
    const { table } = setup(snap);
    const a = await table.query({ state: 'ESTABLISHED', sort: 'local', format: 'csv' });
    if (!('download' in a)) throw new Error(JSON.stringify(a));
    expect(a.download.text).toBe(socketsToCsv(pageRows(snap, [], { state: 'ESTABLISHED', sort: 'local' }).rows, snap.time));
    expect(a.download.fileName).toMatch(/^netscope-h-connections-\d{8}-\d{6}\.csv$/);
    const j = await table.query({ format: 'json', port: '1003' });
    if (!('download' in j)) throw new Error(JSON.stringify(j));
    const body = JSON.parse(j.download.text) as { sockets: unknown[]; filter: Record<string, string> };
    expect(body.sockets).toHaveLength(pageRows(snap, [], { port: '1003' }).rows.length);
    expect(body.filter).toEqual({ port: '1003' });
  });

  it.each([
    [{ bogus: '1' }, 'unknown parameter "bogus"'],
    [{ offset: '-1' }, 'offset must be a whole number'],
    [{ offset: '1e3' }, 'offset must be a whole number'],
    [{ limit: String(CONNECTIONS_MAX_LIMIT + 1) }, `limit must be at most ${CONNECTIONS_MAX_LIMIT}`],
    [{ limit: 'ten' }, 'limit must be a whole number'],
    [{ sort: 'color' }, 'sort must be one of'],
    [{ dir: 'up' }, 'dir must be asc or desc'],
    [{ format: 'xml' }, 'format must be csv or json'],
    [{ seq: 'latest' }, 'seq must be a whole number'],
    [{ offset: ['1', '2'] }, 'offset must be given once'],
  ] as [Record<string, unknown>, string][])('400 for %j', async (q, msg) => {
    const { table } = setup(snapshot(1, { sockets: zoo(10) }));
    const a = await table.query(q);
    expect(a.status).toBe(400);
    expect('error' in a && a.error).toContain(msg);
  });

  it('503 before the first snapshot; past the end, an empty window with the true row count', async () => {
    expect(await setup(null).table.query({})).toEqual({ status: 503, error: 'no snapshot collected yet' });
    const p = pageOf(await setup(snapshot(1, { sockets: zoo(10) })).table.query({ offset: '500', proto: 't,u,w,x' }));
    expect(p.items).toEqual([]);
    expect(p.rows).toBe(10);
  });
});
