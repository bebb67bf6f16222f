/** Small helpers for pages whose state lives in the URL query. */
import { ref, watch, type Ref } from 'vue';
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router';
import { queryString } from '../lib/query';

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
    timer = setTimeout(() => {
      timer = null;
      const query: LocationQueryRaw = { ...route.query };
      if (v.trim() === '') delete query[key];
      else query[key] = v.trim();
      void router.replace({ query });
    }, delayMs);
  });
  return text;
}
