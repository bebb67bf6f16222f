// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import { PROTOCOL_VERSION } from '@netscope/shared';
import type { SocketLike } from '../lib/stream';
import { snapshot, tcp, unix } from '../lib/fixtures.test-util';

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

const { default: ConnectionsPage } = await import('./ConnectionsPage.vue');

const sockets = [
  tcp({ id: 'web', localPort: 443, state: 'ESTABLISHED' }),
  tcp({ id: 'tw', localPort: 443, state: 'TIME_WAIT', pid: null, program: null, inode: 0 }),
  tcp({ id: 'ssh', localPort: 22, state: 'ESTABLISHED', pid: 300, program: 'sshd', remoteAddress: '192.168.1.9' }),
  unix({ id: 'sock' }),
];

async function setup(url: string) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/connections', component: ConnectionsPage }] });
  await router.push(url);
  await router.isReady();
  const w = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  h.socket!.onmessage!({ data: JSON.stringify({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 1, snapshot: snapshot({ sockets }) }) } as MessageEvent);
  await flushPromises();
  const ids = () => w.findAll('.vrow').map((r) => r.find('[data-state]').attributes('data-state') + ':' + r.text().slice(0, 40));
  return { w, router, ids };
}

describe('ConnectionsPage', () => {
  it('reads the filter from the URL (a bookmark keeps it)', async () => {
    const { w } = await setup('/connections?port=443&state=ESTABLISHED');
    expect(w.findAll('.vrow')).toHaveLength(1);
    expect(w.find('[data-testid=row-count]').text()).toContain('1 of 4 sockets');
    expect((w.find('input[aria-label=Port]').element as HTMLInputElement).value).toBe('443');
    expect(w.find('button[data-state=ESTABLISHED]').attributes('aria-pressed')).toBe('true');
    w.unmount();
  });

  it('toggles write the URL; -x adds unix rows', async () => {
    const { w, router } = await setup('/connections');
    expect(w.findAll('.vrow')).toHaveLength(3);
    await w.find('button[data-proto=x]').trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query).toMatchObject({ proto: 't,u,w,x' });
    expect(w.findAll('.vrow')).toHaveLength(4);
    await w.find('button[data-state=TIME_WAIT]').trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query).toMatchObject({ state: 'TIME_WAIT' });
    expect(w.findAll('.vrow')).toHaveLength(1);
    w.unmount();
  });

  it('shows a clear empty state when nothing matches, with a way out', async () => {
    const { w, router } = await setup('/connections?addr=10.99.0.0/16');
    expect(w.find('[data-testid=empty-state]').text()).toContain('No sockets match');
    await w.find('[data-testid=empty-state] button').trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query).toEqual({});
    expect(w.findAll('.vrow')).toHaveLength(3);
    w.unmount();
  });

  it('pause freezes the rows while the stream goes on', async () => {
    const { w } = await setup('/connections');
    expect(w.findAll('.vrow')).toHaveLength(3);
    const pause = w.findAll('button').find((b) => b.text().includes('Pause'))!;
    await pause.trigger('click');
    expect(w.find('[data-testid=paused]').text()).toContain('PAUSED');
    h.socket!.onmessage!({
      data: JSON.stringify({ type: 'snapshot', v: PROTOCOL_VERSION, seq: 2, snapshot: snapshot({ seq: 2, sockets: sockets.slice(0, 1) }) }),
    } as MessageEvent);
    await flushPromises();
    expect(w.findAll('.vrow')).toHaveLength(3); // frozen
    await w.findAll('button').find((b) => b.text().includes('Resume'))!.trigger('click');
    expect(w.findAll('.vrow')).toHaveLength(1); // live again
    w.unmount();
  });

  it('sorting by a header writes sort to the URL; a row opens its details', async () => {
    const { w, router } = await setup('/connections');
    await w.find('[data-col=local]').trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query).toMatchObject({ sort: 'local' });
    await w.findAll('.vrow')[0]!.trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.query.id).toBeTruthy();
    expect(w.find('[data-testid=socket-details]').exists()).toBe(true);
    w.unmount();
  });
});
