// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import { PROTOCOL_VERSION } from '@netscope/shared';
import type { SocketLike } from '../lib/stream';
import { snapshot } from '../lib/fixtures.test-util';
import { clockTime } from '../lib/time';

const h = vi.hoisted(() => ({ socket: null as SocketLike | null, t: 1_800_000_000_000 }));

vi.mock('./../composables/useStream', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../composables/useStream')>();
  const store = mod.createStreamStore({
    url: 'ws://x/ws',
    createSocket: () => {
      h.socket = { readyState: 1, onopen: null, onmessage: null, onclose: null, onerror: null, send: () => {}, close: () => {} };
      return h.socket;
    },
    now: () => h.t,
    random: () => 0,
    setTimeout: () => 0,
    clearTimeout: () => {},
    backoff: { baseMs: 1000, maxMs: 8000, jitter: 0.5 },
    staleAfterMs: () => 5000,
    deadAfterMs: () => 60_000,
    connectTimeoutMs: 10_000,
  });
  store.client.start();
  return { ...mod, useStream: () => store };
});

const { default: StatusBanner } = await import('./StatusBanner.vue');

describe('StatusBanner', () => {
  it('goes from connecting to LIVE to “reconnecting… data stale since hh:mm:ss”', async () => {
    const w = mount(StatusBanner);
    expect(w.text()).toContain('Connecting to the agent');
    h.socket!.onmessage!({ data: JSON.stringify({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: snapshot() }) } as MessageEvent);
    await nextTick();
    expect(w.text()).toContain('LIVE');
    const since = clockTime(h.t);
    h.t += 7000;
    h.socket!.onclose!({ code: 1006, reason: '' } as CloseEvent);
    await nextTick();
    expect(w.text()).toContain(`Reconnecting… data stale since ${since}`);
    expect(w.text()).not.toContain('LIVE');
    expect(w.find('button').text()).toBe('Reconnect now');
    w.unmount();
  });
});
