// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { readTheme, useTheme } from './useTheme';

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
