import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressSortKey, nextSort, sortBy, sortFromQuery, sortSockets, sortSocketsInSteps, sortToQuery } from '@netscope/shared';
import { tcp, unix } from './fixtures.test-util';

const now = 1_700_000_000_000;
const rows = [
  tcp({ id: 'a', localAddress: '10.0.0.10', localPort: 80, recvQ: 5, state: 'TIME_WAIT', pid: 20, program: 'b', inode: 30 }),
  tcp({ id: 'b', localAddress: '10.0.0.9', localPort: 443, recvQ: 100, state: 'ESTABLISHED', pid: null, program: null, inode: 10 }),
  tcp({ id: 'c', localAddress: '2001:db8::1', family: 6, proto: 'tcp6', localPort: 22, recvQ: 5, state: 'LISTEN', pid: 10, program: 'a', inode: 20 }),
  tcp({ id: 'd', localAddress: '10.0.0.9', localPort: 22, recvQ: 0, state: 'CLOSE_WAIT', pid: 5, program: 'A', inode: 40, timer: { kind: 'keepalive', code: 2, expiresAt: now + 5000, retransmits: 0, probes: 0 } }),
];
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('sortSockets', () => {
  it('orders addresses numerically, IPv4 before IPv6, then by port', () => {
    expect(ids(sortSockets(rows, { key: 'local', dir: 'asc' }, now))).toEqual(['d', 'b', 'a', 'c']);
    expect(ids(sortSockets(rows, { key: 'local', dir: 'desc' }, now))).toEqual(['c', 'a', 'b', 'd']);
  });

  it('numbers, stable on ties (snapshot order kept)', () => {
    expect(ids(sortSockets(rows, { key: 'recvQ', dir: 'desc' }, now))).toEqual(['b', 'a', 'c', 'd']);
    expect(ids(sortSockets(rows, { key: 'recvQ', dir: 'asc' }, now))).toEqual(['d', 'a', 'c', 'b']);
    expect(ids(sortSockets(rows, { key: 'inode', dir: 'asc' }, now))).toEqual(['b', 'c', 'a', 'd']);
  });

  it('program: case-insensitive name, then pid; unowned last', () => {
    expect(ids(sortSockets(rows, { key: 'program', dir: 'asc' }, now))).toEqual(['d', 'c', 'a', 'b']);
  });

  it('state and timer', () => {
    expect(ids(sortSockets(rows, { key: 'state', dir: 'asc' }, now))).toEqual(['d', 'b', 'c', 'a']);
    expect(ids(sortSockets(rows, { key: 'timer', dir: 'desc' }, now))[0]).toBe('d');
  });

  it('unix rows sort without throwing on any column', () => {
    const mixed = [...rows, unix({ id: 'u' })];
    for (const key of ['proto', 'recvQ', 'sendQ', 'local', 'remote', 'state', 'program', 'user', 'inode', 'timer'] as const) {
      expect(sortSockets(mixed, { key, dir: 'asc' }, now)).toHaveLength(5);
    }
  });

  it('null spec keeps order and copies', () => {
    const out = sortSockets(rows, null, now);
    expect(ids(out)).toEqual(['a', 'b', 'c', 'd']);
    expect(out).not.toBe(rows);
  });
});

describe('addressSortKey', () => {
  it('10.0.0.9 < 10.0.0.10 < 192.168.0.1 < ::1', () => {
    const keys = ['10.0.0.9', '10.0.0.10', '192.168.0.1', '::1'].map(addressSortKey);
    expect([...keys].sort()).toEqual(keys);
  });
});

describe('sort in the URL and header clicks', () => {
  it('round-trips', () => {
    expect(sortFromQuery('recvQ', 'desc')).toEqual({ key: 'recvQ', dir: 'desc' });
    expect(sortToQuery({ key: 'recvQ', dir: 'desc' })).toEqual({ sort: 'recvQ', dir: 'desc' });
    expect(sortToQuery({ key: 'local', dir: 'asc' })).toEqual({ sort: 'local' });
    expect(sortFromQuery('local', '')).toEqual({ key: 'local', dir: 'asc' });
    expect(sortFromQuery('bogus', 'asc')).toBeNull();
    expect(sortToQuery(null)).toEqual({});
  });
  it('cycles first direction → other → off; numbers start descending', () => {
    expect(nextSort(null, 'recvQ', true)).toEqual({ key: 'recvQ', dir: 'desc' });
    expect(nextSort({ key: 'recvQ', dir: 'desc' }, 'recvQ', true)).toEqual({ key: 'recvQ', dir: 'asc' });
    expect(nextSort({ key: 'recvQ', dir: 'asc' }, 'recvQ', true)).toBeNull();
    expect(nextSort({ key: 'recvQ', dir: 'asc' }, 'local', false)).toEqual({ key: 'local', dir: 'asc' });
  });
});

describe('sortBy', () => {
  it('is stable', () => {
    const xs = [{ k: 1, n: 'a' }, { k: 0, n: 'b' }, { k: 1, n: 'c' }];
    expect(sortBy(xs, (x) => x.k, 'desc').map((x) => x.n)).toEqual(['a', 'c', 'b']);
  });
});

describe('performance', () => {
  it('sorts 200k sockets by address in well under a second', () => {
    const many = [];
    for (let i = 0; i < 200_000; i++) many.push(tcp({ id: `s${i}`, remoteAddress: `10.${(i * 7) & 255}.${(i >> 8) & 255}.${i & 255}`, remotePort: i % 65535 }));
    const c0 = process.cpuUsage();
    const out = sortSockets(many, { key: 'remote', dir: 'asc' }, now);
    const c = process.cpuUsage(c0);
    expect((c.user + c.system) / 1000).toBeLessThan(1000);
    expect(out).toHaveLength(200_000);
  });
});

describe('sortSocketsInSteps', () => {
  const run = <T>(g: Generator<void, T, void>): { value: T; steps: number } => {
    let steps = 0;
    for (;;) {
      const r = g.next();
      if (r.done) return { value: r.value, steps };
      steps++;
    }
  };
  it('gives exactly sortSockets order, for any step, column and direction (ties keep input order)', () => {
    const keys = ['proto', 'recvQ', 'sendQ', 'local', 'remote', 'state', 'program', 'user', 'inode', 'timer'] as const;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ port: fc.integer({ min: 1, max: 6 }), q: fc.integer({ min: 0, max: 3 }), a: fc.constantFrom('10.0.0.1', '10.0.0.9', '::1', '2001:db8::2'), unixRow: fc.boolean(), exp: fc.option(fc.integer({ min: 0, max: 5 })) }),
          { maxLength: 120 },
        ),
        fc.constantFrom(...keys),
        fc.constantFrom('asc' as const, 'desc' as const),
        fc.integer({ min: 1, max: 40 }),
        (specs, key, dir, step) => {
          const rows = specs.map((x, i) =>
            x.unixRow
              ? unix({ id: `u${i}`, path: `/run/${x.port}` })
              : tcp({ id: `t${i}`, localAddress: x.a, localPort: x.port, recvQ: x.q, timer: { kind: x.exp === null ? 'off' : 'keepalive', code: x.exp === null ? 0 : 2, expiresAt: x.exp === null ? null : 1000 * x.exp, retransmits: 0, probes: 0 } }),
          );
          const want = sortSockets(rows, { key, dir }, 0).map((s) => s.id);
          const got = run(sortSocketsInSteps(rows, { key, dir }, 0, step));
          expect(got.value.map((s) => s.id)).toEqual(want);
          if (rows.length > step) expect(got.steps).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
