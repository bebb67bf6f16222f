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

/* ---------- wall mode: no navigation chrome, larger type, for a NOC screen ---------- */

const WALL_KEY = 'netscope.wall';
let wall: Ref<boolean> | null = null;

export function useWallMode(): { wall: Ref<boolean>; toggle: () => void } {
  if (!wall) {
    const storage = typeof localStorage === 'undefined' ? null : localStorage;
    let initial = false;
    try {
      initial = storage?.getItem(WALL_KEY) === '1';
    } catch {
      initial = false;
    }
    const w = ref(initial);
    const apply = (on: boolean) => {
      if (on) document.documentElement.dataset.wall = '1';
      else delete document.documentElement.dataset.wall;
    };
    apply(w.value);
    watch(w, (on) => {
      apply(on);
      try {
        storage?.setItem(WALL_KEY, on ? '1' : '0');
      } catch {
        /* not remembered */
      }
    });
    wall = w;
  }
  const r = wall;
  return { wall: r, toggle: () => (r.value = !r.value) };
}
