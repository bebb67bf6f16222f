// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import { PROTOCOL_VERSION, processSummaries, type Snapshot } from '@netscope/shared';
import type { SocketLike } from '../lib/stream';
import { snapshot, tcp } from '../lib/fixtures.test-util';

const h = vi.hoisted(() => ({ socket: null as SocketLike | null }));

vi.mock('../composables/useStream', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../composables/useStream')>();
  const store = mod.createStreamStore({
    url: 'ws://x/ws',
    createSocket: () => {
      h.socket = { readyState: 1, onopen: null, onmessage: null, onclose: null, onerror: null, send: () => {}, close: () => {} };
      return h.socket;
    },
    now: () => 1_800_000_000_000,
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

const { default: ProcessesPage } = await import('./ProcessesPage.vue');

const REASON = 'not all processes could be identified: 12 process(es) of other users cannot be inspected without root';

describe('ProcessesPage', () => {
  it('labels unowned sockets with the agent’s reason, searches, and opens a process', async () => {
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/processes', component: ProcessesPage },
        { path: '/processes/:pid', component: { template: '<p>detail</p>' } },
      ],
    });
    await router.push('/processes');
    await router.isReady();
    const snap = snapshot({
      sockets: [
        tcp({ id: 'a', state: 'LISTEN', localPort: 443, remotePort: 0, remoteAddress: '0.0.0.0' }),
        tcp({ id: 'b' }),
        tcp({ id: 'c', pid: 200, program: 'postgres', localPort: 5432 }),
        tcp({ id: 'd', pid: null, program: null }),
        tcp({ id: 'e', pid: null, program: null, inode: 0, state: 'TIME_WAIT' }),
      ],
      ownership: { status: 'partial', reason: REASON, isRoot: false, pidsScanned: 20, pidsDenied: 12, pidsVanished: 0, socketsUnowned: 1 },
    });
    // The rows come from the agent's /api/processes (the page takes the summary stream): the agent
    // answers with the same shared function over its snapshot.
    const asked: string[] = [];
    const served: Snapshot = snap;
    vi.stubGlobal('fetch', async (url: string) => {
      asked.push(url);
      return new Response(JSON.stringify({ seq: served.seq, time: served.time, rows: processSummaries(served), ms: 0 }), { status: 200 });
    });
    const w = mount({ template: '<RouterView />' }, { global: { plugins: [router] } });
    h.socket!.onmessage!({ data: JSON.stringify({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: { ...snap, sockets: [] } }) } as MessageEvent);
    await flushPromises();
    expect(new Set(asked)).toEqual(new Set(['/api/processes']));

    expect(w.find('[data-testid=ownership-notice]').text()).toContain('cannot be inspected without root');
    const unseen = w.find('tr[data-key="unowned:unseen"]');
    expect(unseen.text()).toContain('(owner not visible)');
    expect(unseen.text()).toContain('cannot be inspected without root'); // the reason, on the row itself
    expect(w.find('tr[data-key="unowned:kernel"]').text()).toContain('(kernel: no owner)');
    const nginx = w.find('tr[data-key="pid:100"]');
    expect(nginx.text()).toContain('nginx');
    expect(nginx.text()).toContain('tcp/443');

    await w.find('input[type=search]').setValue('postgres');
    await flushPromises();
    expect(w.findAll('tbody tr').map((r) => r.attributes('data-key'))).toEqual(['pid:200']);

    await w.find('tr[data-key="pid:200"]').trigger('keydown', { key: 'Enter' });
    await flushPromises();
    expect(router.currentRoute.value.path).toBe('/processes/200');
    w.unmount();
    vi.unstubAllGlobals();
  });
});
