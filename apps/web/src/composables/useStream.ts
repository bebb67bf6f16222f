/**
 * The one stream store of the page (a shared singleton): status, the snapshot (shallowRef, never
 * deep-reactive), a version bumped per tick, lastUpdate, reconnect. Deltas are applied by the plain
 * StreamClient outside reactivity; per-tick aggregates and chart history are computed here once,
 * in plain JS, whatever page is open.
 */
import { markRaw, ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import { ChangeTracker, type HelloMessage, type HistoryPoint, type HistoryResponse, type Snapshot } from '@netscope/shared';
import { StreamClient, streamUrl, DEFAULT_STREAM_TIMING, type StreamDeps, type StreamStatus, type StreamView } from '../lib/stream';
import { computeOverview, overviewFromSummary, type Overview } from '../lib/aggregate';
import { History } from '../lib/history';

export interface StreamStore {
  status: Ref<StreamStatus>;
  snapshot: ShallowRef<Snapshot | null>;
  /** Bumped on every applied snapshot or delta: computeds key off this, not the snapshot's insides. */
  version: Ref<number>;
  lastUpdate: Ref<number | null>;
  hello: ShallowRef<HelloMessage | null>;
  message: Ref<string | null>;
  nextRetryAt: Ref<number | null>;
  attempt: Ref<number>;
  resyncing: Ref<boolean>;
  overview: ShallowRef<Overview | null>;
  /** Plain objects, deliberately not reactive: read them when `version` changes. */
  history: History;
  changes: ChangeTracker;
  reconnect: () => void;
  stop: () => void;
  /** Switch the stream to another URL (another view); the held snapshot is dropped, history kept. */
  setUrl: (url: string) => void;
  client: StreamClient;
}

export interface StoreOptions {
  /** Fetch the agent's recent history (GET /api/history) once, to prefill the charts. */
  loadHistory?: () => Promise<HistoryPoint[] | null>;
}

export function createStreamStore(deps: StreamDeps, opts: StoreOptions = {}): StreamStore {
  let historyRequested = false;
  const client = new StreamClient(deps);
  const history = markRaw(new History());
  const changes = markRaw(new ChangeTracker());
  const store: StreamStore = {
    status: ref<StreamStatus>(client.state.status),
    snapshot: shallowRef<Snapshot | null>(null),
    version: ref(0),
    lastUpdate: ref<number | null>(null),
    hello: shallowRef<HelloMessage | null>(null),
    message: ref<string | null>(null),
    nextRetryAt: ref<number | null>(null),
    attempt: ref(0),
    resyncing: ref(false),
    overview: shallowRef<Overview | null>(null),
    history,
    changes,
    reconnect: () => client.reconnectNow(),
    stop: () => client.stop(),
    setUrl: (url) => {
      if (!client.setUrl(url)) return;
      changes.clear();
      store.overview.value = null;
      store.snapshot.value = null;
      store.version.value++;
      syncStatus();
    },
    client,
  };

  const syncStatus = (): void => {
    const st = client.state;
    store.status.value = st.status;
    store.lastUpdate.value = st.lastUpdate;
    store.hello.value = st.hello;
    store.message.value = st.message;
    store.nextRetryAt.value = st.nextRetryAt;
    store.attempt.value = st.attempt;
    store.resyncing.value = st.resyncing;
  };

  const onData = (snap: Snapshot): void => {
    markRaw(snap);
    // The agent's counts when it sends them (and always on the summary view, which has no sockets).
    const overview = snap.socketSummary ? overviewFromSummary(snap.socketSummary) : computeOverview(snap.sockets);
    history.record(snap, overview.tcpStates);
    store.overview.value = markRaw(overview);
    store.snapshot.value = snap;
    store.version.value++;
  };

  client.subscribe((e) => {
    if (e.kind === 'snapshot') {
      // A fresh snapshot (first, resync or reconnect) is not "all new": no flashing.
      changes.clear();
      onData(e.snapshot);
      if (!historyRequested && opts.loadHistory) {
        historyRequested = true;
        opts
          .loadHistory()
          .then((points) => {
            if (points && history.prefill(points) > 0) store.version.value++;
          })
          .catch(() => {
            /* no history endpoint (older agent): charts start empty */
          });
      }
    } else if (e.kind === 'delta') {
      changes.record(e.delta, e.previous, deps.now());
      onData(e.snapshot);
    }
    syncStatus();
  });
  return store;
}

let singleton: StreamStore | null = null;
let wantedView: StreamView = 'summary';

/**
 * The view the current route wants (router.beforeEach, from `meta.streamView`): set before the
 * first page mounts, so the first connection already asks for it; later switches reconnect.
 */
export function setStreamView(view: StreamView): void {
  wantedView = view;
  singleton?.setUrl(streamUrl(window.location, view));
}

/** The page's stream, created and started on first use. */
export function useStream(): StreamStore {
  if (!singleton) {
    singleton = createStreamStore({
      url: streamUrl(window.location, wantedView),
      createSocket: (url) => new WebSocket(url),
      now: () => Date.now(),
      random: Math.random,
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (h) => window.clearTimeout(h as number),
      ...DEFAULT_STREAM_TIMING,
    }, { loadHistory: fetchHistory });
    singleton.client.start();
  }
  return singleton;
}

/** GET /api/history?range=600 (the charts hold 600 points); null when absent or not the expected shape. */
async function fetchHistory(): Promise<HistoryPoint[] | null> {
  const res = await fetch('/api/history?range=600', { headers: { accept: 'application/json' } });
  if (!res.ok) return null;
  const body = (await res.json()) as Partial<HistoryResponse> | null;
  return body && Array.isArray(body.points) ? body.points : null;
}
