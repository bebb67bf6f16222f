import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RemoteRanker, firstN, peerSummary, remoteRanking } from '../src/index.js';
import { inet } from './fixtures.js';

describe('firstN', () => {
  it('is the first `limit` of a stable sort, for any items, order and limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), fc.integer({ min: 0, max: 50 }), fc.boolean(), (values, limit, asc) => {
        const items = values.map((v, i) => ({ v, i }));
        const before = (a: { v: number; i: number }, b: { v: number; i: number }) => (a.v !== b.v ? (asc ? a.v < b.v : a.v > b.v) : a.i < b.i);
        const sorted = [...items].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)).slice(0, limit);
        expect(firstN(items, limit, before)).toEqual(sorted);
      }),
      { numRuns: 300 },
    );
  });
});

describe('RemoteRanker', () => {
  it('counts() in first-seen order; peerSummary of each is what result() ranks', () => {
    const r = new RemoteRanker();
    const sockets = [
      inet(1, { remoteAddress: '10.0.0.1' }),
      inet(2, { remoteAddress: '203.0.113.5', program: 'a' }),
      inet(3, { remoteAddress: '203.0.113.5', program: 'b', localPort: 80 }),
      inet(4, { remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN' }),
    ];
    for (const s of sockets) r.add(s);
    expect(r.counts().map((p) => [p.address, p.total])).toEqual([
      ['10.0.0.1', 1],
      ['203.0.113.5', 2],
    ]);
    expect(r.result()).toEqual([peerSummary(r.counts()[1]!), peerSummary(r.counts()[0]!)]);
    expect(remoteRanking(sockets).top[0]).toMatchObject({ address: '203.0.113.5', scope: 'public', programs: ['a', 'b'], localPorts: [[2, 1], [80, 1]] });
  });
});
