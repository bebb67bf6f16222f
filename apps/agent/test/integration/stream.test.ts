/**
 * The stream is the snapshot: a /ws client that applies every delta to its first snapshot holds
 * exactly what /api/snapshot serves for the same seq, while real loopback sockets open and close
 * between ticks.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyDelta, parseServerMessage, type Snapshot } from '@netscope/shared';
import { startAgent, type RunningAgent } from '../security/helpers/agent.js';

let agent: RunningAgent;

beforeAll(async () => {
  agent = await startAgent(['--port', '0', '--interval', '200'], { timeoutMs: 120_000 });
}, 130_000);
afterAll(async () => {
  await agent?.stop();
});

const sortSockets = (s: Snapshot): Snapshot => ({
  ...s,
  sockets: [...s.sockets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
});

async function fetchSnapshot(): Promise<Snapshot> {
  const res = await fetch(`${agent.origin}/api/snapshot`);
  return (await res.json()) as Snapshot;
}

describe('deltas over /ws', () => {
  // Generous timeout: with 100k+ sockets on a busy 2-core machine a tick can take seconds.
  it('reproduce /api/snapshot while sockets open and close', { timeout: 180_000 }, async () => {
    const held: net.Socket[] = [];
    const server = net.createServer((s) => held.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;

    const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/ws`);
    let state: Snapshot | null = null;
    const history = new Map<number, Snapshot>();
    let deltas = 0;
    const latestSeq = (): number => (state as Snapshot | null)?.seq ?? 0;
    let changedSockets = 0;
    ws.on('message', (data) => {
      const msg = parseServerMessage(data.toString());
      if (msg.type === 'snapshot') state = msg.snapshot;
      else if (msg.type === 'delta' && state) {
        state = applyDelta(state, msg);
        deltas++;
        changedSockets += msg.sockets.added.length + msg.sockets.removed.length + msg.sockets.changed.length;
      }
      if (state) {
        history.set(state.seq, state);
        if (history.size > 50) history.delete(history.keys().next().value!);
      }
    });
    await once(ws, 'open');

    try {
      // Churn: open and close connections across several ticks, comparing as we go.
      let compared = 0;
      for (let round = 0; round < 6; round++) {
        const clients: net.Socket[] = [];
        for (let i = 0; i < 10; i++) {
          const c = net.connect(port, '127.0.0.1');
          await once(c, 'connect');
          clients.push(c);
        }
        if (round % 2 === 1) for (const c of clients.splice(0, 5)) c.destroy();
        await new Promise((r) => setTimeout(r, 250));
        // The page may be a tick behind or ahead of the HTTP answer, and a slow client is sent a
        // fresh snapshot instead of deltas it cannot keep up with: compare at a seq both have.
        let served = await fetchSnapshot();
        let streamed: Snapshot | undefined;
        for (let attempt = 0; attempt < 20 && streamed === undefined; attempt++) {
          const deadline = Date.now() + 30_000;
          while (!history.has(served.seq) && latestSeq() <= served.seq && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 20));
          }
          streamed = history.get(served.seq);
          if (streamed === undefined) served = await fetchSnapshot();
        }
        expect(streamed, `stream reached seq ${served.seq}`).toBeDefined();
        // Say which sockets differ before the (huge) deep-equal diff.
        const a = new Map(streamed!.sockets.map((x) => [x.id, JSON.stringify(x)]));
        const b = new Map(served.sockets.map((x) => [x.id, JSON.stringify(x)]));
        const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
        expect(differing.slice(0, 5).map((k) => ({ id: k, streamed: a.get(k), served: b.get(k) })), `seq ${served.seq}`).toEqual([]);
        const dupes = (snap: Snapshot) => snap.sockets.length - new Set(snap.sockets.map((x) => x.id)).size;
        expect({ count: streamed!.sockets.length, dupes: dupes(streamed!) }, `socket count at seq ${served.seq}`).toEqual({
          count: served.sockets.length,
          dupes: dupes(served),
        });
        expect(dupes(served), `duplicate socket ids at seq ${served.seq}`).toBe(0);
        for (const key of Object.keys(served) as (keyof Snapshot)[]) {
          if (key !== 'sockets') expect(streamed![key], `${key} at seq ${served.seq}`).toEqual(served[key]);
        }
        expect(sortSockets(streamed!)).toEqual(sortSockets(served));
        compared++;
        for (const c of clients) c.destroy();
      }
      expect(compared).toBe(6);
      expect(deltas).toBeGreaterThanOrEqual(3);
      expect(changedSockets).toBeGreaterThan(30); // the churn really went through deltas
    } finally {
      ws.close();
      for (const s of held) s.destroy();
      server.close();
    }
  });
});
