/**
 * A JSON resource of the agent's API (/api/config, /api/alerts, /api/history) kept current across
 * agent restarts: fetched on mount and again on every fresh stream snapshot (first connect,
 * reconnect, resync), which is exactly when what the agent holds may have changed. One request at
 * a time; a refresh asked for during one runs once after it. Failures are kept (shown, not thrown)
 * and retried on the next snapshot.
 */
import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { useStream } from './useStream';

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', signal });
  if (!res.ok) {
    let detail = '';
    try {
      const body = (await res.json()) as { error?: unknown };
      if (typeof body.error === 'string') detail = `: ${body.error}`;
    } catch {
      /* not JSON */
    }
    throw new Error(`${url} answered ${res.status}${detail}`);
  }
  return (await res.json()) as T;
}

export interface AgentResource<T> {
  data: ShallowRef<T | null>;
  error: Ref<string | null>;
  /** Client clock of the last successful load. */
  loadedAt: Ref<number | null>;
  refresh: () => void;
}

/**
 * `everyTick`: also on every tick the stream brings and whenever `url()` changes (a table the
 * agent computes from the newest snapshot, e.g. /api/processes). A tick that comes while a request
 * is out is caught up by one request after it, so a slow agent is never asked twice at once.
 */
export function useAgentFetch<T>(url: () => string, onData?: (data: T) => void, timeoutMs = 15_000, everyTick = false): AgentResource<T> {
  const stream = useStream();
  const data = shallowRef<T | null>(null);
  const error = ref<string | null>(null);
  const loadedAt = ref<number | null>(null);
  let inFlight: AbortController | null = null;
  let again = false;
  let alive = true;

  async function run(): Promise<void> {
    if (inFlight) {
      again = true;
      return;
    }
    const ctl = new AbortController();
    inFlight = ctl;
    const timer = window.setTimeout(() => ctl.abort(), timeoutMs);
    try {
      const body = await getJson<T>(url(), ctl.signal);
      if (!alive) return;
      data.value = body;
      error.value = null;
      loadedAt.value = Date.now();
      onData?.(body);
    } catch (err) {
      if (alive) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      window.clearTimeout(timer);
      inFlight = null;
      if (alive && again) {
        again = false;
        void run();
      }
    }
  }

  let unsubscribe: (() => void) | null = null;
  if (everyTick) {
    watch(stream.version, () => void run());
    watch(url, () => void run());
  }
  onMounted(() => {
    // Every tick (and every fresh snapshot) bumps the version: the watch above covers both.
    if (!everyTick) {
      unsubscribe = stream.client.subscribe((e) => {
        if (e.kind === 'snapshot') void run();
      });
    }
    void run();
  });
  onBeforeUnmount(() => {
    alive = false;
    unsubscribe?.();
    inFlight?.abort();
  });
  return { data, error, loadedAt, refresh: () => void run() };
}
