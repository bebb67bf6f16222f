/** A shared wall clock ref ticking once a second (for "stale since", ages, countdowns). */
import { ref, type Ref } from 'vue';

let now: Ref<number> | null = null;

export function useNow(): Ref<number> {
  if (!now) {
    const r = ref(Date.now());
    window.setInterval(() => {
      r.value = Date.now();
    }, 1000);
    now = r;
  }
  return now;
}
