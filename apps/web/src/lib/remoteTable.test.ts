import { describe, expect, it } from 'vitest';
import { CONNECTIONS_MAX_LIMIT, type ConnectionsPage } from '@netscope/shared';
import { connectionsUrl, planWindow, RemoteTable, type FetchJson, type RemoteTableState } from './remoteTable';
import { tcp } from './fixtures.test-util';

/** A fake agent over N numbered sockets: answers windows, counts requests, can hold answers back. */
function fakeAgent(n: number, seq = 1) {
  const sockets = Array.from({ length: n }, (_, i) => tcp({ id: `s${i}`, localPort: 1000 + i }));
  const urls: string[] = [];
  let gate: Promise<void> | null = null;
  let status = 200;
  const aborted: string[] = [];
  const fetchJson: FetchJson = async (url, signal) => {
    urls.push(url);
    if (gate) {
      const cancelled = new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () => {
          aborted.push(url);
          reject(new DOMException('The operation was aborted.', 'AbortError'));
        }),
      );
      await Promise.race([gate, cancelled]);
    }
    if (status !== 200) return { status, body: { error: `status ${status}` } };
    const u = new URL(url, 'http://x');
    const offset = Number(u.searchParams.get('offset'));
    const limit = Number(u.searchParams.get('limit'));
    const items = sockets.slice(offset, offset + limit);
    const page: ConnectionsPage = {
      seq: Number(u.searchParams.get('seq') ?? seq),
      time: 0,
      total: n,
      matched: n,
      rows: n,
      offset,
      items,
      closedIds: items.filter((s) => s.localPort % 7 === 0).map((s) => s.id),
      freshIds: items.filter((s) => s.localPort % 5 === 0).map((s) => s.id),
      closedCount: 0,
      processes: {},
      problems: [],
      ms: 0,
    };
    return { status: 200, body: page };
  };
  return {
    fetchJson,
    urls,
    aborted,
    setSeq: (s: number) => (seq = s),
    setStatus: (s: number) => (status = s),
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('planWindow', () => {
  it('asks for the view plus a margin each side, clamped at 0 and at the limit', () => {
    expect(planWindow(0, 30)).toEqual({ offset: 0, limit: 130 });
    expect(planWindow(500, 530)).toEqual({ offset: 400, limit: 230 });
    expect(planWindow(0, 5000).limit).toBe(CONNECTIONS_MAX_LIMIT);
  });
});

describe('connectionsUrl', () => {
  it('keeps the page query and adds the window, leaving out nulls', () => {
    const url = connectionsUrl({ port: '443', state: 'ESTABLISHED,LISTEN' }, { offset: 0, limit: 10, id: null, seq: 7 });
    const u = new URL(url, 'http://x');
    expect(u.pathname).toBe('/api/connections');
    expect(Object.fromEntries(u.searchParams)).toEqual({ port: '443', state: 'ESTABLISHED,LISTEN', offset: '0', limit: '10', seq: '7' });
  });
});

describe('RemoteTable', () => {
  it('holds only the rows asked for, as a sparse array as long as the table', async () => {
    const agent = fakeAgent(200_000);
    let last: RemoteTableState | null = null;
    const t = new RemoteTable(agent.fetchJson, (s) => (last = s));
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    await settle();
    expect(last!.rows.length).toBe(200_000);
    expect(last!.rows.filter((r) => r !== undefined).length).toBe(130);
    expect(last!.rows[129]!.id).toBe('s129');
    expect(last!.rows[130]).toBeUndefined();
    expect([...last!.closedIds].sort()).toEqual(last!.rows.filter((r) => r !== undefined && r.proto === 'tcp' && r.localPort % 7 === 0).map((r) => r!.id).sort());
    expect(last!.closedIds.size).toBe(19);
  });

  it('a scroll within the loaded rows asks nothing; past them asks once, and keeps both windows of the tick', async () => {
    const agent = fakeAgent(10_000);
    let last: RemoteTableState | null = null;
    const t = new RemoteTable(agent.fetchJson, (s) => (last = s));
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    await settle();
    t.want({ query: {}, start: 50, end: 80, id: null, seq: null });
    await settle();
    expect(agent.urls).toHaveLength(1);
    t.want({ query: {}, start: 5000, end: 5030, id: null, seq: null });
    await settle();
    expect(agent.urls).toHaveLength(2);
    expect(last!.rows[10]!.id).toBe('s10');
    expect(last!.rows[5010]!.id).toBe('s5010');
    // A new tick (another seq) starts from holes: old rows are not shown as if current.
    agent.setSeq(2);
    t.want({ query: {}, start: 5000, end: 5030, id: null, seq: null }, true);
    await settle();
    expect(last!.page!.seq).toBe(2);
    expect(last!.rows[10]).toBeUndefined();
    expect(last!.rows[5010]!.id).toBe('s5010');
  });

  it('a jump far from the window in flight cancels it and asks at once; a step near it waits for it', async () => {
    const agent = fakeAgent(10_000);
    let last: RemoteTableState | null = null;
    let changes = 0;
    const t = new RemoteTable(agent.fetchJson, (s) => {
      last = s;
      changes++;
    });
    const release = agent.hold();
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null }); // asks for rows 0-129
    t.want({ query: {}, start: 40, end: 70, id: null, seq: null }); // in that window: waits
    await settle();
    expect(agent.urls).toHaveLength(1);
    t.want({ query: {}, start: 5000, end: 5030, id: null, seq: null }); // End, a scrollbar drag
    await settle();
    expect(agent.urls).toHaveLength(2);
    expect(agent.aborted).toEqual([agent.urls[0]]);
    expect(agent.urls[1]).toContain('offset=4900');
    release();
    await settle();
    await settle();
    expect(agent.urls).toHaveLength(2); // the view is loaded: nothing more to ask
    expect(changes).toBe(1); // the cancelled answer is neither shown nor reported as a failure
    expect(last!.error).toBeNull();
    expect(last!.rows[5010]!.id).toBe('s5010');
    expect(last!.rows[10]).toBeUndefined();
  });

  it('a new tick or another filter during a request never cancels it, however far the view', async () => {
    const agent = fakeAgent(10_000);
    const t = new RemoteTable(agent.fetchJson, () => {});
    const release = agent.hold();
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    t.want({ query: {}, start: 5000, end: 5030, id: null, seq: null }, true);
    t.want({ query: { port: '80' }, start: 6000, end: 6030, id: null, seq: null });
    await settle();
    expect(agent.urls).toHaveLength(1);
    expect(agent.aborted).toEqual([]);
    release();
    await settle();
    await settle();
    expect(agent.urls).toHaveLength(2);
    expect(agent.urls[1]).toContain('port=80');
  });

  it('wishes made during a request are asked for once, with the newest wish', async () => {
    const agent = fakeAgent(1000);
    let last: RemoteTableState | null = null;
    const t = new RemoteTable(agent.fetchJson, (s) => (last = s));
    const release = agent.hold();
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    for (let i = 1; i <= 5; i++) t.want({ query: { port: String(i) }, start: 0, end: 30, id: null, seq: null }, true);
    release();
    await settle();
    await settle();
    expect(agent.urls).toHaveLength(2);
    expect(agent.urls[1]).toContain('port=5');
    expect(last!.key).toBe(JSON.stringify([['port', '5']]));
  });

  it('a failure keeps the rows it had and says why; 410 is reported as such', async () => {
    const agent = fakeAgent(100);
    let last: RemoteTableState | null = null;
    const t = new RemoteTable(agent.fetchJson, (s) => (last = s));
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    await settle();
    agent.setStatus(410);
    t.want({ query: {}, start: 0, end: 30, id: null, seq: 1 }, true);
    await settle();
    expect(last!.errorStatus).toBe(410);
    expect(last!.error).toBe('status 410');
    expect(last!.rows[0]!.id).toBe('s0');
  });

  it('a different open socket is a new request (the answer carries it)', async () => {
    const agent = fakeAgent(100);
    const t = new RemoteTable(agent.fetchJson, () => {});
    t.want({ query: {}, start: 0, end: 30, id: null, seq: null });
    await settle();
    expect(t.covers({ query: {}, start: 0, end: 30, id: null, seq: null })).toBe(true);
    expect(t.covers({ query: {}, start: 0, end: 30, id: 's3', seq: null })).toBe(false);
    expect(t.covers({ query: { port: '1' }, start: 0, end: 30, id: null, seq: null })).toBe(false);
  });
});
