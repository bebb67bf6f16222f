// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { defineComponent, h } from 'vue';
import VirtualList from './VirtualList.vue';

interface Row {
  id: string;
  n: number;
}
const rows: Row[] = Array.from({ length: 100_000 }, (_, n) => ({ id: `r${n}`, n }));

function mountList(data: Row[] = rows) {
  return mount(VirtualList as unknown as ReturnType<typeof defineComponent>, {
    props: { rows: data, rowHeight: 30, rowKey: (r: Row) => r.id },
    slots: { row: ({ row }: { row: Row }) => h('span', { class: 'cell' }, `row ${row.n}`) },
    attachTo: document.body,
  });
}

describe('VirtualList', () => {
  it('renders only the rows in view, not 100k', () => {
    const w = mountList();
    const rendered = w.findAll('.vrow');
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThan(60);
    expect(w.find('.spacer').attributes('style')).toContain(`height: ${100_000 * 30}px`);
    expect(rendered[0]!.text()).toBe('row 0');
    w.unmount();
  });

  it('scrolling renders the window of rows at the new position', async () => {
    const w = mountList();
    const el = w.find('.vlist').element as HTMLElement;
    el.scrollTop = 30 * 50_000;
    el.dispatchEvent(new Event('scroll'));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    await w.vm.$nextTick();
    const texts = w.findAll('.vrow').map((r) => r.text());
    expect(texts).toContain('row 50000');
    expect(texts).not.toContain('row 0');
    expect(w.findAll('.vrow').length).toBeLessThan(60);
    w.unmount();
  });

  it('rows are focusable with a roving tabindex', () => {
    const w = mountList();
    const rendered = w.findAll('.vrow');
    expect(rendered[0]!.attributes('tabindex')).toBe('0');
    expect(rendered[1]!.attributes('tabindex')).toBe('-1');
    w.unmount();
  });

  it('arrow keys move the active row and Enter opens it', async () => {
    const w = mountList();
    const list = w.find('.vlist');
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowUp' });
    await w.vm.$nextTick();
    await list.trigger('keydown', { key: 'Enter' });
    const opened = w.emitted('open') as [Row, number][] | undefined;
    expect(opened?.[0]?.[1]).toBe(1);
    expect(opened?.[0]?.[0]).toEqual({ id: 'r1', n: 1 });
    expect(w.findAll('.vrow')[1]!.attributes('tabindex')).toBe('0');
    w.unmount();
  });

  it('Home/End jump; click opens', async () => {
    const w = mountList(rows.slice(0, 10));
    const list = w.find('.vlist');
    await list.trigger('keydown', { key: 'End' });
    await list.trigger('keydown', { key: 'Enter' });
    await list.trigger('keydown', { key: 'Home' });
    await list.trigger('keydown', { key: 'Enter' });
    await w.findAll('.vrow')[3]!.trigger('click');
    const opened = (w.emitted('open') as [Row, number][]).map((e) => e[1]);
    expect(opened).toEqual([9, 0, 3]);
    w.unmount();
  });
});
