// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createMemoryHistory, createRouter } from 'vue-router';
import {
  PROTOCOL_VERSION,
  compileFilter,
  filterFromQuery,
  filterSockets,
  queryString,
  sortFromQuery,
  sortSockets,
  type ConnectionsPage as Page,
  type Snapshot,
} from '@netscope/shared';
import type { SocketLike } from '../lib/stream';
import { snapshot, tcp, unix } from '../lib/fixtures.test-util';

const h = vi.hoisted(() => ({ socket: null as SocketLike | null }));

/*
 * The agent's GET /api/connections, as a test double over the snapshots the test streams: the
 * filter and sort are the shared ones (the agent's own tests hold the real endpoint to them).
 */
const held = new Map<number, Snapshot>();
let newest: Snapshot | null = null;
const requests: string[] = [];
function answer(url: string): { status: number; body: unknown } {
  requests.push(url);
  const u = new URL(url, 'http://x');
  const q = Object.fromEntries(u.searchParams);
  const seq = q.seq === undefined ? null : Number(q.seq);
  const snap = seq === null ? newest : (held.get(seq) ?? null);
  if (!snap) return seq === null ? { status: 503, body: { error: 'no snapshot collected yet' } } : { status: 410, body: { error: `snapshot ${seq} is no longer held` } };
  const f = filterFromQuery(q);
  const compiled = compileFilter(f, { processes: snap.processes });
  const live = filterSockets(snap.sockets, compiled.test);
  const sort = sortFromQuery(queryString(q, 'sort'), queryString(q, 'dir'));
  const rows = sort ? sortSockets(live, sort, snap.time) : live;
  const offset = Number(q.offset ?? 0);
  const items = rows.slice(offset, offset + Number(q.limit ?? 100));
  const id = q.id;
  const sel = id ? rows.findIndex((s) => s.id === id) : -1;
  const page: Page = {
    seq: snap.seq,
    time: snap.time,
    total: snap.sockets.length,
    matched: live.length,
    rows: rows.length,
    offset,
    items,
    closedIds: [],
    freshIds: [],
    closedCount: 0,
    processes: {},
    problems: compiled.problems,
    ms: 0,
    ...(id ? { selected: sel >= 0 ? { socket: rows[sel]!, closed: false, process: null, index: sel } : null } : {}),
  };
  return { status: 200, body: page };
}
vi.stubGlobal('fetch', async (url: string) => {
  const { status, body } = answer(url);
  return { ok: status === 200, status, json: async () => body, text: async () => JSON.stringify(body), headers: new Headers() } as unknown as Response;
});

function stream(snap: Snapshot): void {
  held.set(snap.seq, snap);
  newest = snap;
  h.socket!.onmessage!({ data: JSON.stringify({ type: 'snapshot', v: PROTOCOL_VERSION, seq: snap.seq, snapshot: { ...snap, sockets: [] } }) } as MessageEvent);
}

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

/** Stream message → fetch → render: a few turns of promises and timers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function setup(url: string) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/connections', component: ConnectionsPage }] });
  await router.push(url);
  await router.isReady();
  const w = mount({ template: '<RouterView />' }, { global: { plugins: [router] }, attachTo: document.body });
  stream(snapshot({ sockets }));
  await settle();
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
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ proto: 't,u,w,x' });
    expect(w.findAll('.vrow')).toHaveLength(4);
    await w.find('button[data-state=TIME_WAIT]').trigger('click');
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ state: 'TIME_WAIT' });
    expect(w.findAll('.vrow')).toHaveLength(1);
    w.unmount();
  });

  it('shows a clear empty state when nothing matches, with a way out', async () => {
    const { w, router } = await setup('/connections?addr=10.99.0.0/16');
    expect(w.find('[data-testid=empty-state]').text()).toContain('No sockets match');
    await w.find('[data-testid=empty-state] button').trigger('click');
    await settle();
    expect(router.currentRoute.value.query).toEqual({});
    expect(w.findAll('.vrow')).toHaveLength(3);
    w.unmount();
  });

  it('a filter problem is shown; the Port box is marked only for a port problem', async () => {
    const state = await setup('/connections?state=NOPE');
    expect(state.w.find('[role=alert]').text()).toMatch(/^state “NOPE” is not a socket state/);
    expect(state.w.find('input[aria-label=Port]').classes()).not.toContain('invalid');
    state.w.unmount();
    const port = await setup('/connections?port=99999');
    expect(port.w.find('[role=alert]').text()).toContain('port “99999” is not a port');
    expect(port.w.find('input[aria-label=Port]').classes()).toContain('invalid');
    port.w.unmount();
  });

  it('pause freezes the rows while the stream goes on', async () => {
    const { w } = await setup('/connections');
    expect(w.findAll('.vrow')).toHaveLength(3);
    const pause = w.findAll('button').find((b) => b.text().includes('Pause'))!;
    await pause.trigger('click');
    expect(w.find('[data-testid=paused]').text()).toContain('PAUSED');
    stream(snapshot({ seq: 2, sockets: sockets.slice(0, 1) }));
    await settle();
    expect(w.findAll('.vrow')).toHaveLength(3); // frozen: the agent still answers for seq 1
    expect(requests.at(-1)).toContain('seq=1');
    await w.findAll('button').find((b) => b.text().includes('Resume'))!.trigger('click');
    await settle();
    expect(w.findAll('.vrow')).toHaveLength(1); // live again
    w.unmount();
  });

  it('sorting by a header writes sort to the URL; a row opens its details', async () => {
    const { w, router } = await setup('/connections');
    await w.find('[data-col=local]').trigger('click');
    await settle();
    expect(router.currentRoute.value.query).toMatchObject({ sort: 'local' });
    await w.findAll('.vrow')[0]!.trigger('click');
    await settle();
    expect(router.currentRoute.value.query.id).toBeTruthy();
    expect(w.find('[data-testid=socket-details]').exists()).toBe(true);
    w.unmount();
  });

  it('a 50k-socket table: the page asks the agent for a window and renders only the rows in view', async () => {
    const { w } = await setup('/connections');
    const big = Array.from({ length: 50_000 }, (_, i) => tcp({ id: `b${i}`, localPort: 10_000 + (i % 50_000), remotePort: 40_000 }));
    requests.length = 0;
    stream(snapshot({ seq: 3, sockets: big }));
    await settle();
    expect(w.find('[data-testid=row-count]').text()).toContain('50,000 of 50,000 sockets');
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(Number(new URL(r, 'http://x').searchParams.get('limit'))).toBeLessThanOrEqual(1000);
    const rendered = w.findAll('.vrow');
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThan(100);
    expect(rendered[0]!.attributes('data-key')).toBe('b0');
    w.unmount();
  });
});
