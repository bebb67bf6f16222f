/** Small helpers for pages whose state lives in the URL query. */
import { onScopeDispose, ref, watch, type Ref } from 'vue';
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router';
import { queryString } from '@netscope/shared';

/**
 * A text input bound to one query key: typing updates the ref at once and the URL after a short
 * pause (router.replace, so the back button is not flooded); URL changes flow back into the ref.
 */
export function useQueryText(key: string, delayMs = 250): Ref<string> {
  const route = useRoute();
  const router = useRouter();
  const text = ref(queryString(route.query, key));
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(
    () => queryString(route.query, key),
    (v) => {
      if (timer === null && v !== text.value) text.value = v;
    },
  );
  watch(text, (v) => {
    if (timer !== null) clearTimeout(timer);
    const path = route.path;
    timer = setTimeout(() => {
      timer = null;
      if (route.path !== path) return; // the operator moved on: never write into another view's URL
      const query: LocationQueryRaw = { ...route.query };
      if (v.trim() === '') delete query[key];
      else query[key] = v.trim();
      void router.replace({ query });
    }, delayMs);
  });
  onScopeDispose(() => {
    if (timer !== null) clearTimeout(timer);
  });
  return text;
}

export interface TableSort<K extends string> {
  key: Ref<K>;
  dir: Ref<'asc' | 'desc'>;
  toggle: (key: K, numeric?: boolean) => void;
  ariaSort: (key: K) => 'ascending' | 'descending' | 'none';
  arrow: (key: K) => string;
}

/** Sort state for the smaller tables, kept in `?sort=&dir=` so it survives a reload. */
export function useTableSort<K extends string>(keys: readonly K[], fallback: K, fallbackDir: 'asc' | 'desc'): TableSort<K> {
  const route = useRoute();
  const router = useRouter();
  const key = ref(fallback) as Ref<K>;
  const dir = ref<'asc' | 'desc'>(fallbackDir);
  const read = (): void => {
    const k = queryString(route.query, 'sort');
    key.value = (keys as readonly string[]).includes(k) ? (k as K) : fallback;
    const d = queryString(route.query, 'dir');
    dir.value = d === 'asc' || d === 'desc' ? d : (keys as readonly string[]).includes(k) ? 'asc' : fallbackDir;
  };
  read();
  watch(() => route.query, read);
  const toggle = (k: K, numeric = false): void => {
    const nextDir: 'asc' | 'desc' = key.value === k ? (dir.value === 'asc' ? 'desc' : 'asc') : numeric ? 'desc' : 'asc';
    void router.replace({ query: { ...route.query, sort: k, dir: nextDir } });
  };
  return {
    key,
    dir,
    toggle,
    ariaSort: (k) => (key.value !== k ? 'none' : dir.value === 'asc' ? 'ascending' : 'descending'),
    arrow: (k) => (key.value !== k ? '' : dir.value === 'asc' ? '▲' : '▼'),
  };
}
