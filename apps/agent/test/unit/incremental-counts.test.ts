// The socket summary and the alert measures are counted in full once, then followed tick by tick
// through what changed (identityDiff). After any churn they must be exactly what a full count of
// the tick's sockets gives: sockets closing, opening, changing state, owner, program (exec) and
// port, listeners coming and going, a peer's only port or program replaced, groups emptied.
import { describe, expect, it } from 'vitest';
import { summariseSockets, type InetSocket, type Snapshot, type Socket, type TcpState } from '@netscope/shared';
import { SocketSummariser } from '../../src/collect/summary.js';
import { identityDiff } from '../../src/collect/identity-diff.js';
import { MeasureCounts, alertGroup, breakdown, measure, warmBreakdown } from '../../src/alerts/measure.js';
import { Monitor } from '../../src/alerts/monitor.js';
import { Slice } from '../../src/yield.js';
import { at, cfg, conns, listener } from '../alerts/synthetic.js';
import { unix } from '../../../../packages/shared/test/fixtures.js';

const STATES: TcpState[] = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV', 'NEW_SYN_RECV', 'FIN_WAIT2', 'LISTEN'];

/** A deterministic pseudo-random sequence (tests must be repeatable). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function start(): Socket[] {
  const out: Socket[] = [listener(22), listener(53, 'resolved', 'udp'), listener(8080, null)];
  for (let i = 0; i < 3000; i++) {
    out.push(...conns(1, STATES[i % 6]!, `198.51.100.${i % 23}`, [443, 22, 8080][i % 3], { pid: i % 5 === 0 ? null : 100 + (i % 7), program: i % 5 === 0 ? null : `p${i % 7}` }));
  }
  // a peer with a single port and program, to be replaced wholesale later
  out.push(...conns(4, 'ESTABLISHED', '192.0.2.99', 9000, { pid: 900, program: 'solo' }));
  for (let i = 0; i < 20; i++) out.push(unix(6_000_000 + i));
  return out;
}

/** The next tick as the collector hands it out: unchanged sockets are the very same objects, in order. */
function churn(prev: readonly Socket[], r: () => number, round: number): Socket[] {
  const next: Socket[] = [];
  for (const s of prev) {
    const x = r();
    if (x < 0.03) continue; // closed
    if (x < 0.08 && s.proto !== 'unix') {
      const inet = s as InetSocket;
      const y = r();
      // changed: a new object with the same id
      if (y < 0.25) next.push({ ...inet, state: STATES[Math.floor(r() * STATES.length)]! });
      else if (y < 0.5) next.push({ ...inet, pid: inet.pid === null ? 555 : null, program: inet.pid === null ? 'adopted' : null });
      else if (y < 0.75) next.push({ ...inet, program: `${inet.program ?? 'x'}-exec` });
      else next.push({ ...inet, localPort: inet.localPort + 1 });
      continue;
    }
    next.push(s);
  }
  const fresh = conns(40 + round, STATES[round % STATES.length]!, `203.0.113.${round % 5}`, 443 + (round % 2), { pid: 300 + round, program: `n${round}` });
  next.splice(Math.floor(r() * next.length), 0, ...fresh);
  if (round % 3 === 0) next.push(listener(10_000 + round, `l${round}`));
  if (round === 4) {
    // the single-port, single-program peer: every socket replaced by ones on another port and program
    for (let i = next.length - 1; i >= 0; i--) if ((next[i] as InetSocket).remoteAddress === '192.0.2.99') next.splice(i, 1);
    next.push(...conns(3, 'ESTABLISHED', '192.0.2.99', 9001, { pid: 901, program: 'other' }));
  }
  return next;
}

describe('identityDiff', () => {
  it('finds a burst of insertions and of removals side by side, changing nothing else', async () => {
    const base = start();
    const burst = conns(300, 'ESTABLISHED', '203.0.113.50', 443);
    const next = [...base.slice(0, 1000), ...burst, ...base.slice(1000, 2000), ...base.slice(2200)];
    const d = await identityDiff(base, next);
    expect(d.came).toEqual(burst);
    expect(d.gone).toEqual(base.slice(2000, 2200));
    // a changed socket (a new object in the same place) is in both
    const changed = [...next];
    changed[5] = { ...changed[5]! };
    const d2 = await identityDiff(next, changed);
    expect(d2.gone).toEqual([next[5]]);
    expect(d2.came).toEqual([changed[5]]);
    expect(d2.gone[0]).not.toBe(d2.came[0]);
    // the monitor, the stream and the paged table ask for the same pair in one tick: one walk
    expect(await identityDiff(next, changed)).toBe(d2);
    expect(await identityDiff(base, changed)).not.toBe(d2);
  });
});

describe('counts followed through the changes equal a full count', () => {
  it('socket summary, over 25 ticks of churn', async () => {
    const r = rng(7);
    const summariser = new SocketSummariser();
    let sockets = start();
    await summariser.attach(at(0, { sockets }), 0);
    expect(summariser.lastMode).toBe('full');
    for (let round = 1; round <= 25; round++) {
      sockets = churn(sockets, r, round);
      const snap = at(round, { sockets });
      await summariser.attach(snap, 0);
      expect(summariser.lastMode).toBe('diff');
      expect(snap.socketSummary).toEqual(summariseSockets(sockets));
    }
  });

  it('alert measures and the watched breakdowns, over 25 ticks of churn', async () => {
    const r = rng(11);
    let sockets = start();
    const counts = new MeasureCounts();
    for (const s of sockets) counts.add(s);
    const groups = [alertGroup('perLocalPort', '443')!, alertGroup('established', null)!, alertGroup('perRemote', '198.51.100.4')!, alertGroup('perRemote', '203.0.113.1')!];
    for (const g of groups) await warmBreakdown(counts.m, sockets, g, new Slice(0));
    for (let round = 1; round <= 25; round++) {
      const next = churn(sockets, r, round);
      const d = await identityDiff(sockets, next);
      for (const s of d.gone) counts.remove(s);
      for (const s of d.came) counts.add(s);
      sockets = next;
      const full = measure({ sockets });
      const { watched, ...countsOnly } = counts.m;
      const { watched: none, ...fullCounts } = full;
      expect(countsOnly).toEqual(fullCounts);
      expect(none.port.size).toBe(0);
      expect(watched.port.size + watched.state.size + watched.remote.size).toBe(4);
      // every watched group kept in step: equal to counting the tick's sockets afresh
      for (const g of groups) expect(breakdown(counts.m, sockets, g)).toEqual(breakdown(full, sockets, g));
    }
  });

  it('the monitor: each published tick carries the full count\'s summary, and alert text from up-to-date measures', async () => {
    const r = rng(3);
    let sockets = start();
    let round = 0;
    let frozen = false;
    const inner = {
      collect: async (): Promise<Snapshot> => {
        if (round > 0 && !frozen) sockets = churn(sockets, r, round);
        return at(round++, { sockets });
      },
    };
    // port 443 carries ~1000 connections: over a threshold of 500, raised at once
    const monitor = await Monitor.create(inner, { alerts: cfg({ perLocalPort: { threshold: 500, raiseAfterSec: 0, clearAfterSec: 0 } }), dataDir: '/nonexistent', hostname: 'test', persist: false });
    for (let i = 0; i < 12; i++) {
      const snap = await monitor.collect(1000, null);
      expect(snap.socketSummary).toEqual(summariseSockets(sockets));
      expect((monitor as unknown as { summariser: SocketSummariser }).summariser.lastMode).toBe(i === 0 ? 'full' : 'diff');
      const alert = snap.alerts?.find((a) => a.instance === 'perLocalPort:443');
      expect(alert).toBeDefined();
      const fresh = breakdown(measure({ sockets }), sockets, alertGroup('perLocalPort', '443'));
      const total = [...fresh.byState.values()].reduce((a, b) => a + b, 0);
      expect(alert!.title).toContain(`Port 443: ${total} connections`);
      const states = alert!.lookAt.find((l) => l.label === 'Their states');
      const top = [...fresh.byState].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
      expect(String(states?.value)).toContain(`${top[0]} (${top[1]})`);
    }
    // Only the active alert's group is kept counted; once it clears, nothing is.
    const watched = (): string[] => {
      const w = (monitor as unknown as { measures: { last: { counts: MeasureCounts } } }).measures.last.counts.m.watched;
      return [...[...w.state.keys()].map((k) => `state:${k}`), ...[...w.remote.keys()].map((k) => `remote:${k}`), ...[...w.port.keys()].map((k) => `port:${k}`)];
    };
    const groupsOf = (snap: Snapshot): string[] =>
      (snap.alerts ?? [])
        .flatMap((a) => {
          const g = alertGroup(a.rule, a.key);
          return g ? [`${g.by}:${g.key}`] : [];
        })
        .sort();
    const last = await monitor.collect(1000, null);
    expect(groupsOf(last)).toContain('port:443');
    expect(watched().sort()).toEqual(groupsOf(last));
    sockets = sockets.filter((s) => s.proto === 'unix' || s.localPort !== 443);
    frozen = true; // no churn: this very list
    const quiet = await monitor.collect(1000, null);
    expect(quiet.alerts?.find((a) => a.instance === 'perLocalPort:443')).toBeUndefined();
    expect(watched()).not.toContain('port:443');
    expect(watched().sort()).toEqual(groupsOf(quiet));
  });
});
