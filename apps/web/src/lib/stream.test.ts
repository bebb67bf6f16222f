import { beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, PROTOCOL_VERSION, type DeltaMessage, type ServerMessage, type Snapshot } from '@netscope/shared';
import { StreamClient, streamUrl, type SocketLike, type StreamDeps, type StreamEvent } from './stream';
import { snapshot, tcp } from './fixtures.test-util';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  receive(msg: ServerMessage | string): void {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) } as MessageEvent);
  }
  serverClose(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' } as CloseEvent);
  }
}

/** A manual clock with timers. */
class Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const first = this.timers[0];
      if (!first || first.at > end) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
}

let clock: Clock;
let sockets: FakeSocket[];
let events: StreamEvent[];
let client: StreamClient;
let randomValue: number;

function deps(): StreamDeps {
  return {
    url: 'ws://host/ws',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    now: () => clock.t,
    random: () => randomValue,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    backoff: { baseMs: 500, maxMs: 8000, jitter: 0.5 },
    staleAfterMs: (i) => Math.max(3 * i, 5000),
    deadAfterMs: (i) => Math.max(10 * i, 20000),
    connectTimeoutMs: 10_000,
  };
}

const hello: ServerMessage = { type: 'hello', v: PROTOCOL_VERSION, agentVersion: '0.1.0', serverTime: 0, intervalMs: 1000, hostname: 'web01' };
const snapMsg = (s: Snapshot): ServerMessage => ({ type: 'snapshot', v: PROTOCOL_VERSION, seq: s.seq, snapshot: s });
const last = () => sockets[sockets.length - 1]!;

const s1 = snapshot({ seq: 1, time: 1000, sockets: [tcp({ id: 'a' }), tcp({ id: 'b' })] });
const s2 = snapshot({ seq: 2, time: 2000, sockets: [tcp({ id: 'a', recvQ: 5 }), tcp({ id: 'c' })] });
const s3 = snapshot({ seq: 3, time: 3000, sockets: [tcp({ id: 'c' })] });
const d12: DeltaMessage = diffSnapshots(s1, s2);
const d23: DeltaMessage = diffSnapshots(s2, s3);

beforeEach(() => {
  clock = new Clock();
  sockets = [];
  events = [];
  randomValue = 0;
  client = new StreamClient(deps());
  client.subscribe((e) => events.push(e));
  client.start();
});

function connectWithSnapshot(s = s1): FakeSocket {
  const sock = last();
  sock.open();
  sock.receive(hello);
  sock.receive(snapMsg(s));
  return sock;
}

describe('StreamClient', () => {
  it('connects to the url and goes live on the first snapshot', () => {
    expect(sockets).toHaveLength(1);
    expect(last().url).toBe('ws://host/ws');
    expect(client.state.status).toBe('connecting');
    connectWithSnapshot();
    expect(client.state.status).toBe('live');
    expect(client.state.hello?.hostname).toBe('web01');
    expect(client.state.clockSkewMs).toBe(0 - clock.t); // hello.serverTime is 0 in the fixture
    expect(client.state.snapshot?.seq).toBe(1);
    expect(client.state.lastUpdate).toBe(clock.t);
  });

  it('applies deltas in order, producing the next snapshot', () => {
    const sock = connectWithSnapshot();
    clock.advance(1000);
    sock.receive(d12);
    expect(client.state.snapshot?.seq).toBe(2);
    expect(client.state.snapshot?.sockets.map((s) => s.id)).toEqual(['a', 'c']);
    expect(client.state.snapshot?.sockets[0]).toMatchObject({ recvQ: 5 });
    sock.receive(d23);
    expect(client.state.snapshot?.sockets.map((s) => s.id)).toEqual(['c']);
    const delta = events.filter((e) => e.kind === 'delta');
    expect(delta).toHaveLength(2);
    expect(delta[0]).toMatchObject({ previous: { seq: 1 }, snapshot: { seq: 2 } });
  });

  it('a sequence gap sends resync once, drops deltas until a fresh snapshot', () => {
    const sock = connectWithSnapshot();
    sock.readyState = 1;
    sock.receive(d23); // baseSeq 2, we hold 1
    expect(sock.sent).toEqual([JSON.stringify({ type: 'resync' })]);
    expect(client.state.resyncing).toBe(true);
    expect(client.state.gaps).toBe(1);
    expect(client.state.status).toBe('stale');
    expect(client.state.snapshot?.seq).toBe(1); // untouched
    sock.receive(d23);
    expect(sock.sent).toHaveLength(1); // not twice
    sock.receive(snapMsg(s3));
    expect(client.state.status).toBe('live');
    expect(client.state.resyncing).toBe(false);
    expect(client.state.snapshot?.seq).toBe(3);
  });

  it('an unanswered resync ends in a fresh connection', () => {
    const sock = connectWithSnapshot();
    sock.receive(d23); // gap → resync
    for (let i = 0; i < 25; i++) {
      clock.advance(1000);
      sock.receive(d23); // deltas keep arriving (the socket is not silent), no snapshot
    }
    expect(sock.closed).toBe(true);
    expect(client.state.message).toMatch(/resync not answered/);
    expect(client.state.status).toBe('reconnecting');
  });

  it('a malformed frame also asks for a resync', () => {
    const sock = connectWithSnapshot();
    sock.receive('{"type":"delta","v":99}');
    expect(sock.sent).toEqual([JSON.stringify({ type: 'resync' })]);
    expect(client.state.message).toMatch(/protocol version/);
  });

  it('goes stale when ticks stop, live again when they resume', () => {
    const sock = connectWithSnapshot();
    clock.advance(4000);
    expect(client.state.status).toBe('live');
    clock.advance(2000); // > max(3×1000, 5000)
    expect(client.state.status).toBe('stale');
    sock.receive(d12);
    expect(client.state.status).toBe('live');
  });

  it('replaces a silent connection after the dead timeout', () => {
    connectWithSnapshot();
    clock.advance(21_000);
    expect(sockets[0]!.closed).toBe(true);
    expect(client.state.status).toBe('reconnecting');
    expect(client.state.message).toMatch(/no data/);
  });

  it('reconnects with growing, jittered, capped delays and keeps the stale data', () => {
    connectWithSnapshot();
    randomValue = 0; // no jitter: delay = ceiling
    last().serverClose();
    expect(client.state.status).toBe('reconnecting');
    expect(client.state.snapshot?.seq).toBe(1);
    expect(client.state.nextRetryAt).toBe(clock.t + 500);
    clock.advance(499);
    expect(sockets).toHaveLength(1);
    clock.advance(1);
    expect(sockets).toHaveLength(2);
    last().serverClose();
    expect(client.state.nextRetryAt).toBe(clock.t + 1000);
    clock.advance(1000);
    last().serverClose();
    expect(client.state.nextRetryAt).toBe(clock.t + 2000);
    clock.advance(2000);
    for (let i = 0; i < 5; i++) {
      last().serverClose();
      const delay = client.state.nextRetryAt! - clock.t;
      expect(delay).toBeLessThanOrEqual(8000);
      clock.advance(delay);
    }
    expect(client.state.nextRetryAt).toBeNull();
    // jitter lowers the delay by up to half
    randomValue = 0.99;
    last().serverClose();
    const d = client.state.nextRetryAt! - clock.t;
    expect(d).toBeGreaterThanOrEqual(4000);
    expect(d).toBeLessThan(8000);
  });

  it('resets the backoff after a good snapshot and resyncs on reconnect', () => {
    connectWithSnapshot();
    last().serverClose();
    clock.advance(500);
    last().serverClose();
    clock.advance(1000);
    expect(client.state.attempt).toBe(2);
    const sock = last();
    sock.open();
    sock.receive(hello);
    sock.receive(snapMsg(s3));
    expect(client.state.attempt).toBe(0);
    expect(client.state.status).toBe('live');
    expect(client.state.snapshot?.seq).toBe(3);
  });

  it('bye keeps its reason through the close', () => {
    const sock = connectWithSnapshot();
    sock.receive({ type: 'bye', v: PROTOCOL_VERSION, reason: 'shutdown', message: 'agent stopping' });
    sock.serverClose(1001);
    expect(client.state.message).toMatch(/shutdown/);
    expect(client.state.status).toBe('reconnecting');
  });

  it('gives up on a connection attempt that never opens', () => {
    clock.advance(10_000);
    expect(sockets[0]!.closed).toBe(true);
    expect(client.state.status).toBe('connecting');
    expect(client.state.message).toMatch(/timed out/);
  });

  it('reconnectNow resets the backoff and connects at once; stop stops', () => {
    connectWithSnapshot();
    last().serverClose();
    client.reconnectNow();
    expect(sockets).toHaveLength(2);
    expect(client.state.attempt).toBe(0);
    client.stop();
    expect(client.state.status).toBe('stopped');
    clock.advance(60_000);
    expect(sockets).toHaveLength(2);
  });

  it('ignores deltas before the first snapshot', () => {
    const sock = last();
    sock.open();
    sock.receive(d12);
    expect(client.state.snapshot).toBeNull();
    expect(sock.sent).toEqual([]);
  });
});

describe('streamUrl', () => {
  it('follows the page scheme', () => {
    expect(streamUrl({ protocol: 'http:', host: 'a:8080' })).toBe('ws://a:8080/ws');
    expect(streamUrl({ protocol: 'https:', host: 'a' })).toBe('wss://a/ws');
  });
});
