// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { readTheme, useTheme, useWallMode } from './useTheme';

describe('theme', () => {
  it('is dark unless light was chosen; survives a broken storage', () => {
    expect(readTheme(null)).toBe('dark');
    expect(readTheme({ getItem: () => 'light' })).toBe('light');
    expect(readTheme({ getItem: () => 'purple' })).toBe('dark');
    expect(
      readTheme({
        getItem: () => {
          throw new Error('denied');
        },
      }),
    ).toBe('dark');
  });

  it('toggles, applies to <html> and is remembered', async () => {
    localStorage.clear();
    const { theme, toggle } = useTheme();
    expect(theme.value).toBe('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    toggle();
    await nextTick();
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(localStorage.getItem('netscope.theme')).toBe('light');
    toggle();
    await nextTick();
    expect(localStorage.getItem('netscope.theme')).toBe('dark');
  });
});

describe('wall mode', () => {
  it('toggles data-wall on <html> and is remembered', async () => {
    const { wall, toggle } = useWallMode();
    expect(wall.value).toBe(false);
    toggle();
    await nextTick();
    expect(document.documentElement.dataset.wall).toBe('1');
    expect(localStorage.getItem('netscope.wall')).toBe('1');
    toggle();
    await nextTick();
    expect(document.documentElement.dataset.wall).toBeUndefined();
    expect(localStorage.getItem('netscope.wall')).toBe('0');
  });
});
