// The agent's socketSummary is fed in slices at 200k sockets: it must equal the page's one-call
// summariseSockets, and must give the event loop turns while it counts.
import { describe, expect, it } from 'vitest';
import { summariseSockets, type Snapshot, type TcpState } from '@netscope/shared';
import { SocketSummariser } from '../../src/collect/summary.js';
import { turnsDuring } from '../helpers/turns.js';
import { conns, listener, at } from '../alerts/synthetic.js';
import { unix } from '../../../../packages/shared/test/fixtures.js';

function manySockets(): Snapshot['sockets'] {
  const states: TcpState[] = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV', 'NEW_SYN_RECV', 'FIN_WAIT2'];
  const out: Snapshot['sockets'] = [listener(22), listener(53, 'resolved', 'udp'), listener(8080, null)];
  for (let i = 0; i < 12_000; i++) {
    const remote = `198.51.100.${i % 37}`;
    out.push(...conns(1, states[i % states.length]!, remote, [443, 22, 8080][i % 3], { pid: i % 5 === 0 ? null : 100 + (i % 7), program: i % 5 === 0 ? null : `p${i % 7}` }));
  }
  for (let i = 0; i < 50; i++) out.push(unix(5_000_000 + i));
  return out;
}

describe('SocketSummariser', () => {
  it('over 12k sockets in slices: the same summary as summariseSockets, with event-loop turns between slices', async () => {
    const snap = at(0, { sockets: manySockets() });
    const { turns } = await turnsDuring(() => new SocketSummariser().attach(snap, 0));
    expect(snap.socketSummary).toEqual(summariseSockets(snap.sockets));
    expect(snap.socketSummary!.total).toBe(12_053);
    expect(turns).toBeGreaterThan(1);
  });

  it('the very socket array of last tick reuses last tick\'s summary object', async () => {
    const s = new SocketSummariser();
    const a = at(0, { sockets: manySockets() });
    await s.attach(a);
    const b = at(1000, { sockets: a.sockets });
    await s.attach(b);
    expect(b.socketSummary).toBe(a.socketSummary);
    const c = at(2000, { sockets: a.sockets.slice(1) });
    await s.attach(c);
    expect(c.socketSummary).not.toBe(a.socketSummary);
    expect(c.socketSummary!.total).toBe(a.socketSummary!.total - 1);
  });
});
