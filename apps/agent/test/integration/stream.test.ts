/**
 * The stream is the snapshot: a /ws client that applies every delta to its first snapshot holds
 * exactly what /api/snapshot serves for the same seq, while real loopback sockets open and close
 * between ticks. Checked at once for every form a client can ask for (`/ws`, `?aggregates=patch`,
 * `?view=summary`), with and without permessage-deflate.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyDelta, parseServerMessage, type HelloMessage, type Snapshot } from '@netscope/shared';
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

/** A /ws client applying every delta, keeping the last 50 states by seq. */
function streamClient(path: string, deflate: boolean) {
  const ws = new WebSocket(`ws://127.0.0.1:${agent.port}${path}`, { perMessageDeflate: deflate });
  const c = {
    ws,
    path,
    hello: null as HelloMessage | null,
    state: null as Snapshot | null,
    history: new Map<number, Snapshot>(),
    deltas: 0,
    changedSockets: 0,
    /** Bytes of the messages, as JSON text. */
    jsonBytes: 0,
  };
  ws.on('message', (data: Buffer) => {
    c.jsonBytes += data.length;
    const msg = parseServerMessage(data.toString());
    if (msg.type === 'hello') c.hello = msg;
    else if (msg.type === 'snapshot') c.state = msg.snapshot;
    else if (msg.type === 'delta' && c.state) {
      c.state = applyDelta(c.state, msg);
      c.deltas++;
      c.changedSockets += msg.sockets.added.length + msg.sockets.removed.length + msg.sockets.changed.length;
    }
    if (c.state) {
      c.history.set(c.state.seq, c.state);
      if (c.history.size > 50) c.history.delete(c.history.keys().next().value!);
    }
  });
  return c;
}
type StreamClient = ReturnType<typeof streamClient>;

/** The client's state at `served.seq`, fetching newer snapshots until the stream holds one. */
async function atSameSeq(client: StreamClient, first: Snapshot): Promise<{ served: Snapshot; streamed: Snapshot | undefined }> {
  let served = first;
  let streamed: Snapshot | undefined;
  for (let attempt = 0; attempt < 20 && streamed === undefined; attempt++) {
    const deadline = Date.now() + 30_000;
    while (!client.history.has(served.seq) && (client.state?.seq ?? 0) <= served.seq && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    streamed = client.history.get(served.seq);
    if (streamed === undefined) served = await fetchSnapshot();
  }
  return { served, streamed };
}

function expectSame(streamed: Snapshot | undefined, served: Snapshot, what: string): void {
  expect(streamed, `${what}: stream reached seq ${served.seq}`).toBeDefined();
  // Say which sockets differ before the (huge) deep-equal diff.
  const a = new Map(streamed!.sockets.map((x) => [x.id, JSON.stringify(x)]));
  const b = new Map(served.sockets.map((x) => [x.id, JSON.stringify(x)]));
  const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  expect(differing.slice(0, 5).map((k) => ({ id: k, streamed: a.get(k), served: b.get(k) })), `${what} seq ${served.seq}`).toEqual([]);
  const dupes = (snap: Snapshot) => snap.sockets.length - new Set(snap.sockets.map((x) => x.id)).size;
  expect({ count: streamed!.sockets.length, dupes: dupes(streamed!) }, `${what}: socket count at seq ${served.seq}`).toEqual({
    count: served.sockets.length,
    dupes: dupes(served),
  });
  expect(dupes(served), `duplicate socket ids at seq ${served.seq}`).toBe(0);
  for (const key of new Set([...Object.keys(served), ...Object.keys(streamed!)]) as Set<keyof Snapshot>) {
    if (key !== 'sockets') expect(streamed![key], `${what}: ${key} at seq ${served.seq}`).toEqual(served[key]);
  }
  expect(sortSockets(streamed!)).toEqual(sortSockets(served));
}

describe('deltas over /ws', () => {
  // Generous timeout: with 100k+ sockets on a busy 2-core machine a tick can take seconds.
  it('reproduce /api/snapshot while sockets open and close, in every view and form', { timeout: 240_000 }, async () => {
    const held: net.Socket[] = [];
    const server = net.createServer((s) => held.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;

    // Three clients, not six: on a machine holding 200k sockets each full one parses 75 MB snapshots.
    const clients = [
      streamClient('/ws', true), // what the web app gets: whole sections, deflated
      streamClient('/ws?aggregates=patch', false), // patched sections, no compression
      streamClient('/ws?view=summary&aggregates=patch', true),
    ];
    const [deflated] = clients;
    const summaries = clients.filter((c) => c.path.includes('summary'));
    const full = clients.filter((c) => !c.path.includes('summary'));
    await Promise.all(clients.map((c) => once(c.ws, 'open')));

    try {
      // What was negotiated and announced.
      const pmd = 'permessage-deflate';
      expect(clients.map((c) => c.ws.extensions)).toEqual([pmd, '', pmd]);
      await new Promise((r) => setTimeout(r, 100));
      expect(clients.map((c) => c.hello && { view: c.hello.view, aggregates: c.hello.aggregates })).toEqual([
        { view: 'full', aggregates: 'whole' },
        { view: 'full', aggregates: 'patch' },
        { view: 'summary', aggregates: 'patch' },
      ]);
      // Churn: open and close connections across several ticks, comparing as we go.
      let compared = 0;
      for (let round = 0; round < 6; round++) {
        const conns: net.Socket[] = [];
        for (let i = 0; i < 10; i++) {
          const c = net.connect(port, '127.0.0.1');
          await once(c, 'connect');
          conns.push(c);
        }
        if (round % 2 === 1) for (const c of conns.splice(0, 5)) c.destroy();
        await new Promise((r) => setTimeout(r, 250));
        // The page may be a tick behind or ahead of the HTTP answer, and a slow client is sent a
        // fresh snapshot instead of deltas it cannot keep up with: compare at a seq both have.
        const served0 = await fetchSnapshot();
        for (const client of full) {
          const { served, streamed } = await atSameSeq(client, served0);
          expectSame(streamed, served, client.path);
        }
        for (const client of summaries) {
          const { served, streamed } = await atSameSeq(client, served0);
          expect(streamed?.sockets, `${client.path}: no sockets`).toEqual([]);
          expectSame(streamed, { ...served, sockets: [] }, client.path);
        }
        compared++;
        for (const c of conns) c.destroy();
      }
      expect(compared).toBe(6);
      for (const c of full) {
        expect(c.deltas, c.path).toBeGreaterThanOrEqual(3);
        expect(c.changedSockets, c.path).toBeGreaterThan(30); // the churn really went through deltas
      }
      for (const c of summaries) {
        expect(c.deltas, c.path).toBeGreaterThanOrEqual(3);
        expect(c.changedSockets, c.path).toBe(0);
      }
      // Compression did happen: the deflated client read far fewer bytes off its socket than its messages hold.
      const read = (c: StreamClient): number => (c.ws as unknown as { _socket: net.Socket })._socket.bytesRead;
      expect(read(deflated!)).toBeLessThan(deflated!.jsonBytes / 3);
    } finally {
      for (const c of clients) c.ws.close();
      for (const s of held) s.destroy();
      server.close();
    }
  });

  it('refuses a view or form it does not know with 400 saying which values exist', async () => {
    for (const [query, reason] of [
      ['view=sumary', 'unknown view "sumary": use full or summary'],
      ['aggregates=json', 'unknown aggregates "json": use whole or patch'],
    ] as const) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${agent.port}/ws?${query}`);
        ws.once('unexpected-response', (_req, r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        ws.once('open', () => reject(new Error(`/ws?${query} was accepted`)));
        ws.once('error', () => {});
      });
      expect(res, query).toEqual({ status: 400, body: `/ws: ${reason}\n` });
    }
  });
});
