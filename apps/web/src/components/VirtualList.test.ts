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

  async function scrollTo(w: { find(selector: string): { element: Element }; vm: { $nextTick(): Promise<void> } }, top: number): Promise<void> {
    const el = w.find('.vlist').element as HTMLElement;
    el.scrollTop = top;
    el.dispatchEvent(new Event('scroll'));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    await w.vm.$nextTick();
  }

  it('scrolling re-fills the same elements in place and in order, never moving one', async () => {
    const w = mountList();
    const before = w.findAll('.vrow').map((r) => r.element);
    // A jump (a wheel notch at 200k rows), then a step of one row, then a few rows back.
    for (const top of [30 * 1000, 30 * 1001, 30 * 997]) {
      await scrollTo(w, top);
      const now = w.findAll('.vrow');
      const first = Number(now[0]!.attributes('data-index'));
      // In order: element k shows row first + k.
      now.forEach((r, k) => expect(r.attributes('data-index')).toBe(String(first + k)));
      // The same elements as before (the window's length may differ by one at the end).
      const common = Math.min(before.length, now.length);
      for (let k = 0; k < common; k++) expect(now[k]!.element).toBe(before[k]);
    }
    w.unmount();
  });

  it('a row still loading keeps what its element showed, hidden, until it arrives', async () => {
    // Sparse, as paged rows are: rows 0-99 loaded, the rest holes.
    const sparse: (Row | undefined)[] = new Array(100_000);
    for (let n = 0; n < 100; n++) sparse[n] = rows[n];
    const w = mount(VirtualList as unknown as ReturnType<typeof defineComponent>, {
      props: { rows: sparse, rowHeight: 30, rowKey: (r: Row | undefined, i: number) => r?.id ?? `pending-${i}` },
      slots: { row: ({ row, loading }: { row: Row | undefined; loading: boolean }) => h('span', { class: 'cell', 'data-loading': String(loading) }, row ? `row ${row.n}` : '…') },
      attachTo: document.body,
    });
    const firstBefore = w.findAll('.vrow')[0]!;
    expect(firstBefore.text()).toBe('row 0');
    expect(firstBefore.classes()).not.toContain('loading');

    await scrollTo(w, 30 * 50_000);
    const loadingRows = w.findAll('.vrow');
    expect(loadingRows[0]!.attributes('data-index')).not.toBe('0');
    // Every row in view is a hole: marked loading, its element still holding the text it had.
    for (const r of loadingRows) expect(r.classes()).toContain('loading');
    expect(loadingRows[0]!.find('.cell').attributes('data-loading')).toBe('true');
    expect(loadingRows[0]!.text()).toBe('row 0');

    // The rows arrive (filled in place, version bumped): shown, no longer loading.
    const first = Number(loadingRows[0]!.attributes('data-index'));
    for (let n = first; n < first + loadingRows.length; n++) sparse[n] = rows[n];
    await w.setProps({ version: 1 });
    const arrived = w.findAll('.vrow')[0]!;
    expect(arrived.classes()).not.toContain('loading');
    expect(arrived.text()).toBe(`row ${first}`);
    expect(arrived.find('.cell').attributes('data-loading')).toBe('false');
    w.unmount();
  });

  it('keyboard focus follows the rows as the list scrolls under it', async () => {
    const w = mountList();
    const settle = async () => {
      for (let k = 0; k < 3; k++) await w.vm.$nextTick();
    };
    const focusedIndex = () => (document.activeElement as HTMLElement | null)?.dataset.index;
    (w.findAll('.vrow')[2]!.element as HTMLElement).focus();
    expect(focusedIndex()).toBe('2');

    // A wheel notch far down: the active row left the window, so the first row in view takes focus.
    await scrollTo(w, 30 * 50_000);
    await settle();
    expect(focusedIndex()).toBe('50000');
    expect(w.find('[data-index="50000"]').attributes('tabindex')).toBe('0');

    // ↓ moves on from there, and Enter opens the row that has focus.
    await w.find('.vlist').trigger('keydown', { key: 'ArrowDown' });
    await settle();
    expect(focusedIndex()).toBe('50001');
    await w.find('.vlist').trigger('keydown', { key: 'Enter' });
    expect((w.emitted('open') as [Row, number][]).at(-1)?.[1]).toBe(50001);

    // A small scroll (two rows): focus stays with its row, now in another element.
    const el = document.activeElement;
    await scrollTo(w, (w.find('.vlist').element as HTMLElement).scrollTop + 60);
    await settle();
    expect(focusedIndex()).toBe('50001');
    expect(document.activeElement).not.toBe(el);
    w.unmount();
  });
});
