// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { isProxy, isReactive } from 'vue';
import { flushPromises } from '@vue/test-utils';
import { diffSnapshots, PROTOCOL_VERSION, type HistoryPoint } from '@netscope/shared';
import { createStreamStore } from './useStream';
import type { SocketLike } from '../lib/stream';
import { snapshot, tcp } from '../lib/fixtures.test-util';

function setup(loadHistory?: () => Promise<HistoryPoint[] | null>) {
  let socket: (SocketLike & { readyState: number }) | null = null;
  let t = 5_000_000;
  const timers: (() => void)[] = [];
  const store = createStreamStore({
    url: 'ws://x/ws',
    createSocket: () => {
      socket = { readyState: 1, onopen: null, onmessage: null, onclose: null, onerror: null, send: () => {}, close: () => {} };
      return socket;
    },
    now: () => t,
    random: () => 0,
    setTimeout: (fn) => {
      timers.push(fn);
      return timers.length;
    },
    clearTimeout: () => {},
    backoff: { baseMs: 100, maxMs: 1000, jitter: 0.5 },
    staleAfterMs: () => 5000,
    deadAfterMs: () => 60_000,
    connectTimeoutMs: 10_000,
  }, loadHistory ? { loadHistory } : {});
  store.client.start();
  const send = (msg: unknown) => socket!.onmessage!({ data: JSON.stringify(msg) } as MessageEvent);
  return { store, send, advance: (ms: number) => (t += ms), close: () => socket!.onclose!({ code: 1006, reason: '' } as CloseEvent) };
}

describe('createStreamStore', () => {
  const s1 = snapshot({ seq: 1, time: 1000, sockets: [tcp({ id: 'a' }), tcp({ id: 'b', state: 'TIME_WAIT' })] });
  const s2 = snapshot({ seq: 2, time: 2000, sockets: [tcp({ id: 'a' }), tcp({ id: 'c' })] });

  it('holds the snapshot shallowly, bumps version, computes the overview and history once per tick', () => {
    const { store, send } = setup();
    expect(store.status.value).toBe('connecting');
    send({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: s1 });
    expect(store.version.value).toBe(1);
    expect(store.status.value).toBe('live');
    expect(isReactive(store.snapshot.value)).toBe(false);
    expect(isProxy(store.snapshot.value!.sockets)).toBe(false);
    expect(store.overview.value!.tcpStates.TIME_WAIT).toBe(1);
    expect(store.history.tcpStates.length).toBe(1);
    expect(store.changes.added.size).toBe(0); // a full snapshot flashes nothing

    send(diffSnapshots(s1, s2));
    expect(store.version.value).toBe(2);
    expect(store.snapshot.value!.sockets.map((s) => s.id)).toEqual(['a', 'c']);
    expect(store.changes.added.has('c')).toBe(true);
    expect(store.changes.removed.has('b')).toBe(true);
    expect(store.history.tcpStates.length).toBe(2);
  });

  it('prefills the charts from the agent history once, on the first snapshot', async () => {
    let calls = 0;
    const point: HistoryPoint = { t: 500, n: 1, states: { TIME_WAIT: 7 }, totals: { tcp: 7, udp: 0, raw: 0, unix: 0, sockets: 7 }, ifaces: {}, counters: {}, alerts: 0 };
    const { store, send } = setup(async () => {
      calls++;
      return [point];
    });
    send({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: s1 });
    await flushPromises();
    expect(calls).toBe(1);
    expect(store.history.tcpStates.map((p) => p.t)).toEqual([500, 1000]);
    expect(store.history.tcpStates.at(0)!.counts.TIME_WAIT).toBe(7);
    expect(store.version.value).toBe(2);
    send({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: s1 });
    await flushPromises();
    expect(calls).toBe(1);
  });

  it('reflects reconnecting with lastUpdate kept (stale since)', () => {
    const { store, send, advance, close } = setup();
    send({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: s1 });
    const at = store.lastUpdate.value;
    advance(3000);
    close();
    expect(store.status.value).toBe('reconnecting');
    expect(store.lastUpdate.value).toBe(at);
    expect(store.nextRetryAt.value).not.toBeNull();
    expect(store.snapshot.value).not.toBeNull();
  });
});
