/** Dark by default, light on request; remembered in localStorage. */
import { ref, watch, type Ref } from 'vue';

export type Theme = 'dark' | 'light';
const KEY = 'netscope.theme';

export function readTheme(storage: Pick<Storage, 'getItem'> | null): Theme {
  try {
    return storage?.getItem(KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

let theme: Ref<Theme> | null = null;

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t;
}

export function useTheme(): { theme: Ref<Theme>; toggle: () => void } {
  if (!theme) {
    const storage = typeof localStorage === 'undefined' ? null : localStorage;
    const t = ref<Theme>(readTheme(storage));
    applyTheme(t.value);
    watch(t, (v) => {
      applyTheme(v);
      try {
        storage?.setItem(KEY, v);
      } catch {
        /* private mode: not remembered */
      }
    });
    theme = t;
  }
  const r = theme;
  return { theme: r, toggle: () => (r.value = r.value === 'dark' ? 'light' : 'dark') };
}
