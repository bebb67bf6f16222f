// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { TCP_STATE_HELP, ChangeTracker } from '@netscope/shared';
import SocketTable from './SocketTable.vue';
import { tcp, unix } from '../lib/fixtures.test-util';

const now = 1_700_000_000_000;

describe('SocketTable', () => {
  it('shows netstat -anpeo columns, service names and state help', () => {
    const rows = [tcp({ id: 'a', localService: 'https', state: 'TIME_WAIT' }), unix({ id: 'u' })];
    const w = mount(SocketTable, { props: { rows, now, sort: null }, attachTo: document.body });
    const headers = w.findAll('[role=columnheader]').map((h) => h.text());
    expect(headers).toEqual(['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State', 'PID/Program', 'User', 'Inode', 'Timer']);
    const first = w.findAll('.vrow')[0]!;
    expect(first.text()).toContain('10.0.0.1:443');
    expect(first.find('.svc').text()).toBe('https');
    expect(first.text()).toContain('100/nginx');
    expect(first.find('[data-state=TIME_WAIT]').attributes('title')).toBe(TCP_STATE_HELP.TIME_WAIT);
    expect(w.findAll('.vrow')[1]!.text()).toContain('/run/systemd/private');
    w.unmount();
  });

  it('emits sort with the column key and marks aria-sort', async () => {
    const w = mount(SocketTable, { props: { rows: [tcp()], now, sort: { key: 'recvQ', dir: 'desc' } } });
    await w.find('[data-col=local]').trigger('click');
    expect(w.emitted('sort')).toEqual([['local']]);
    const recv = w.findAll('[role=columnheader]')[1]!;
    expect(recv.attributes('aria-sort')).toBe('descending');
    w.unmount();
  });

  it('flashes new rows and marks closed ones', () => {
    const changes = new ChangeTracker(4000);
    changes.added.set('new', 1000);
    const rows = [tcp({ id: 'new' }), tcp({ id: 'old' }), tcp({ id: 'gone' })];
    const w = mount(SocketTable, { props: { rows, now, sort: null, changes, clientNow: 2000, closedIds: new Set(['gone']) } });
    const cls = w.findAll('.vrow').map((r) => r.classes());
    expect(cls[0]).toContain('fresh');
    expect(cls[1]).not.toContain('fresh');
    expect(cls[2]).toContain('closed');
    expect(w.findAll('.vrow')[2]!.text()).toContain('closed');
    w.unmount();
  });

  it('Enter on a row emits open with the socket', async () => {
    const s = tcp({ id: 'x' });
    const w = mount(SocketTable, { props: { rows: [s], now, sort: null }, attachTo: document.body });
    await w.find('.vlist').trigger('keydown', { key: 'Enter' });
    expect(w.emitted('open')).toEqual([[s]]);
    w.unmount();
  });

  it('a row re-filled with another socket changes the text of its cells in place (same elements, same text nodes)', async () => {
    const a = tcp({ id: 'a', inode: 111, localService: 'https', state: 'ESTABLISHED' });
    const b = tcp({ id: 'b', inode: 222, state: 'TIME_WAIT' });
    const w = mount(SocketTable, { props: { rows: [a], now, sort: null }, attachTo: document.body });
    const row = () => w.findAll('.vrow')[0]!;
    const cells = row().findAll('[role=cell]').map((c) => c.element);
    const inodeText = cells[8]!.firstChild;
    const svcText = row().find('.svc').element.firstChild;
    expect(inodeText?.textContent).toBe('111');
    expect(svcText?.textContent).toBe(' https');

    await w.setProps({ rows: [b] });
    const after = row().findAll('[role=cell]').map((c) => c.element);
    expect(after).toHaveLength(cells.length);
    after.forEach((cell, k) => expect(cell).toBe(cells[k]));
    expect(after[8]!.firstChild).toBe(inodeText);
    expect(inodeText?.textContent).toBe('222');
    // No service name: the same (now empty) text node, not a removed element.
    expect(row().find('.svc').element.firstChild).toBe(svcText);
    expect(svcText?.textContent).toBe('');
    expect(row().find('[data-state]').attributes('data-state')).toBe('TIME_WAIT');
    w.unmount();
  });

  it('a hole is drawn as loading: a place that never showed a row has no state, one that did keeps it (skipped by CSS) until its row comes', async () => {
    const x = tcp({ id: 'x', state: 'ESTABLISHED' });
    const w = mount(SocketTable, { props: { rows: [undefined, x], now, sort: null } });
    let [never, loaded] = w.findAll('.vrow');
    expect(never!.classes()).toContain('loading');
    expect(never!.find('[data-state]').exists()).toBe(false);
    expect(loaded!.classes()).not.toContain('loading');
    expect(loaded!.find('[data-state]').attributes('data-state')).toBe('ESTABLISHED');

    // The second row becomes a hole (as after a scroll, before its window of rows arrives).
    await w.setProps({ rows: [undefined, undefined], version: 1 });
    [never, loaded] = w.findAll('.vrow');
    expect(loaded!.classes()).toContain('loading');
    expect(loaded!.find('[data-state]').attributes('data-state')).toBe('ESTABLISHED');

    const y = tcp({ id: 'y', state: 'CLOSE_WAIT' });
    await w.setProps({ rows: [undefined, y], version: 2 });
    [never, loaded] = w.findAll('.vrow');
    expect(loaded!.classes()).not.toContain('loading');
    expect(loaded!.find('[data-state]').attributes('data-state')).toBe('CLOSE_WAIT');
    w.unmount();
  });
});
