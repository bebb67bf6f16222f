/**
 * Slow consumers against the built agent (issue 5): a client that stops reading must never grow
 * the agent's memory. The proc tree holds 10,000 TCP sockets whose queues change every tick, so
 * every 500 ms tick is a multi-MB delta; a paused client fills the kernel buffers in well under a
 * second, then the agent's own send buffer. Measured: VmRSS before, during (max) and after a
 * minute of one client that never reads, while another client keeps receiving every delta.
 *
 * This file takes about 80 s; vitest runs it in its own worker, beside the other files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeltaMessage } from '@netscope/shared';
import { httpGet, makeProcTree, rssKiB, startAgent, tcpTable, type ProcTree, type RunningAgent } from './helpers/agent.js';
import { RawWsClient } from './helpers/rawws.js';
import { waitFor, wsAttempt, type WsAttempt } from './helpers/ws.js';

const SOCKETS = 10_000;
const INTERVAL_MS = 500;
const MINUTE_MS = 60_000;

interface Health {
  clients: number;
  seq: number;
  stream: {
    deltasSent: number;
    snapshotsSent: number;
    deltasSkipped: number;
    dropped: number;
    timedOut: number;
    bufferedBytes: number;
    maxClientBufferedBytes: number;
  };
}

let tree: ProcTree;
let agent: RunningAgent;
let churn: NodeJS.Timeout;
const figures: string[] = [];

async function health(): Promise<Health> {
  return JSON.parse((await httpGet(agent.port, '/api/health')).body) as Health;
}

/** Follows one well-behaved client: every delta must continue the seq it holds. */
function follow(a: WsAttempt): { deltas: () => number; gaps: () => number; deltaBytes: () => number; snapshotBytes: () => number } {
  let held: number | null = null;
  let deltas = 0;
  let gaps = 0;
  let deltaBytes = 0;
  let snapshotBytes = 0;
  a.ws!.on('message', (data) => {
    const text = data.toString();
    const m = JSON.parse(text) as { type: string; seq?: number; baseSeq?: number };
    if (m.type === 'delta') deltaBytes += text.length;
    if (m.type === 'snapshot') snapshotBytes = Math.max(snapshotBytes, text.length);
    if (m.type === 'snapshot') held = m.seq ?? null;
    if (m.type === 'delta') {
      const d = m as DeltaMessage;
      if (held !== d.baseSeq) gaps++;
      held = d.seq;
      deltas++;
    }
  });
  return { deltas: () => deltas, gaps: () => gaps, deltaBytes: () => deltaBytes, snapshotBytes: () => snapshotBytes };
}

beforeAll(async () => {
  tree = makeProcTree({ tcpCount: SOCKETS });
  // Three versions of net/tcp with different queue sizes, swapped in atomically between ticks.
  const versions = [1, 2, 3].map((salt) => tcpTable(SOCKETS, salt));
  let n = 0;
  churn = setInterval(() => {
    const tmp = join(tree.proc, 'net', '.tcp.next');
    writeFileSync(tmp, versions[n++ % versions.length]!);
    renameSync(tmp, join(tree.proc, 'net', 'tcp'));
  }, INTERVAL_MS / 2);
  agent = await startAgent([...tree.args, '--port', '0', '--interval', String(INTERVAL_MS), '--no-owners']);
});

afterAll(async () => {
  clearInterval(churn);
  await agent?.stop();
  tree?.cleanup();
  console.log(`slow-consumer figures:\n  ${figures.join('\n  ')}`);
});

describe('slow consumers', () => {
  it('a client that stops reading for a while skips deltas, then gets a full snapshot when it catches up', async () => {
    const lag = await RawWsClient.connect(agent.port, { localAddress: '127.0.0.40' });
    await waitFor(() => lag.messages.some((m) => m.type === 'delta'), 10_000, 'a first delta');
    const before = await health();
    lag.pause();
    await new Promise((r) => setTimeout(r, 6000));
    // The kernel's socket buffers take several MB first, and what is still queued of the first
    // snapshot counts as allowed: on a loaded machine (slower ticks) skipping can start later.
    let during = await health();
    for (let i = 0; i < 20 && during.stream.deltasSkipped <= before.stream.deltasSkipped; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      during = await health();
    }
    expect(during.stream.deltasSkipped).toBeGreaterThan(before.stream.deltasSkipped);
    const countBefore = lag.messages.length;
    lag.resume();
    await waitFor(
      () => lag.messages.slice(countBefore).some((m) => m.type === 'snapshot'),
      15_000,
      'a full snapshot after catching up',
    );
    const i = lag.messages.findIndex((m, k) => k >= countBefore && m.type === 'snapshot');
    const snap = lag.messages[i]!;
    // Then deltas continue from that snapshot.
    await waitFor(() => lag.messages.slice(i + 1).some((m) => m.type === 'delta'), 5000, 'a delta after the snapshot');
    const next = lag.messages.slice(i + 1).find((m) => m.type === 'delta') as DeltaMessage;
    expect(snap.type === 'snapshot' && next.baseSeq === snap.seq).toBe(true);
    expect(lag.closed).toBe(false);
    figures.push(`laggard (paused until it was behind): ${during.stream.deltasSkipped - before.stream.deltasSkipped} deltas skipped, resynced by snapshot seq ${snap.type === 'snapshot' ? snap.seq : '?'}`);
    lag.destroy();
  }, 90_000);

  it('a client flooding resync while not reading is not sent one snapshot per frame', async () => {
    const flood = await RawWsClient.connect(agent.port, { localAddress: '127.0.0.41' });
    await waitFor(() => flood.messages.some((m) => m.type === 'snapshot'), 10_000, 'first snapshot');
    flood.pause();
    await new Promise((r) => setTimeout(r, 1500)); // let its buffers fill
    const before = await health();
    for (let i = 0; i < 200; i++) flood.sendText('{"type":"resync"}');
    await new Promise((r) => setTimeout(r, 3000));
    const after = await health();
    const answered = after.stream.snapshotsSent - before.stream.snapshotsSent;
    figures.push(`200 resync frames from a paused client → ${answered} snapshots queued`);
    expect(answered).toBeLessThan(10);
    flood.destroy();
  }, 30_000);

  it(
    'a client that never reads for a minute: bounded agent memory, then dropped; the other client keeps every delta',
    async () => {
      const good = await wsAttempt(agent.port, { localAddress: '127.0.0.42' });
      expect(good.status).toBe(101);
      const followed = follow(good);
      await waitFor(() => followed.deltas() >= 4, 10_000, 'a few deltas for the healthy client');
      // A peer alive to TCP but dead to us: reads everything, never answers a ping.
      const mute = await RawWsClient.connect(agent.port, { localAddress: '127.0.0.44' });
      mute.autoPong = false;
      const rssBefore = rssKiB(agent.pid);
      const h0 = await health();

      const slow = await RawWsClient.connect(agent.port, { localAddress: '127.0.0.43' });
      slow.pause(); // never reads again: not even pings
      const deltasAtStart = followed.deltas();
      let rssMax = rssBefore;
      let droppedAfterMs: number | null = null;
      /** The agent's own send buffer for its worst client: the direct measure of backpressure. */
      let bufferedMax = 0;
      const t0 = Date.now();
      const samples: number[] = [];
      while (Date.now() - t0 < MINUTE_MS) {
        await new Promise((r) => setTimeout(r, 1000));
        const rss = rssKiB(agent.pid);
        samples.push(rss);
        rssMax = Math.max(rssMax, rss);
        const h = await health();
        bufferedMax = Math.max(bufferedMax, h.stream.maxClientBufferedBytes);
        if (droppedAfterMs === null) {
          // Gone, by bye (behind too long) or by heartbeat; the mute client is the other one to go.
          const gone = h.stream.dropped - h0.stream.dropped + (h.stream.timedOut - h0.stream.timedOut);
          if (gone > (mute.closed ? 1 : 0)) droppedAfterMs = Date.now() - t0;
        }
      }
      const rssAfter = rssKiB(agent.pid);
      const h1 = await health();
      const deltasDuring = followed.deltas() - deltasAtStart;
      const expectedTicks = MINUTE_MS / INTERVAL_MS;

      figures.push(
        `RSS before ${(rssBefore / 1024).toFixed(1)} MiB, max during ${(rssMax / 1024).toFixed(1)} MiB, after ${(rssAfter / 1024).toFixed(1)} MiB ` +
          `(growth ${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB; max +${((rssMax - rssBefore) / 1024).toFixed(1)} MiB)`,
        `largest send buffer held for one client: ${(bufferedMax / 1048576).toFixed(1)} MiB (high water 4 MiB)`,
        `slow client (never reads): dropped after ${droppedAfterMs === null ? 'never' : `${(droppedAfterMs / 1000).toFixed(0)} s`}; ` +
          `deltas skipped ${h1.stream.deltasSkipped - h0.stream.deltasSkipped}`,
        `mute client (reads, never answers pings): ${mute.closedAt === null ? 'never terminated' : `terminated after ${((mute.closedAt - t0) / 1000).toFixed(0)} s`} (heartbeat 15 s)`,
        `healthy client: ${deltasDuring} deltas in the minute, ${(followed.deltaBytes() / Math.max(1, followed.deltas()) / 1048576).toFixed(1)} MiB each on average`,
        `healthy client: ${deltasDuring} deltas in the minute (≈${expectedTicks} ticks at ${INTERVAL_MS} ms, stretched when collection is slow), ${followed.gaps()} seq gaps`,
        `RSS samples (MiB): ${samples.map((k) => (k / 1024).toFixed(0)).join(' ')}`,
      );

      // Without backpressure the agent would queue every multi-MB delta for the slow client until
      // it is dropped; with it, the queue stops at the high-water mark past the full snapshot it was
      // sent on connecting (deltas may queue behind a snapshot still being read), plus the message in flight.
      const avgDelta = followed.deltaBytes() / Math.max(1, followed.deltas());
      expect(bufferedMax).toBeLessThan(followed.snapshotBytes() + 4 * 1048576 + 2 * Math.max(avgDelta, 1048576));
      expect(rssMax - rssBefore).toBeLessThan(160 * 1024);
      expect(rssAfter - rssBefore).toBeLessThan(96 * 1024);
      expect(droppedAfterMs).not.toBeNull();
      expect(mute.closed).toBe(true);
      expect(h1.stream.timedOut).toBeGreaterThan(h0.stream.timedOut);
      expect(h1.stream.deltasSkipped).toBeGreaterThan(h0.stream.deltasSkipped);
      // The healthy client was never starved or desynchronised.
      expect(followed.gaps()).toBe(0);
      expect(deltasDuring).toBeGreaterThan(expectedTicks / 4);
      expect(good.ws!.readyState).toBe(good.ws!.OPEN);
      slow.destroy();
      good.ws!.close();
    },
    MINUTE_MS + 60_000,
  );
});
