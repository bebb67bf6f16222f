/**
 * The page at scale (issue 6): ~200k TCP sockets from a generated /proc tree (bench/fixture-tree.mjs),
 * a private agent on it. Functional only — rows show, a filter narrows 200k to a few, the table
 * scrolls to its last row, the overview and wall show the agent's counts. Timings are the
 * benchmark's job (`node bench/browser.mjs`), never asserted here.
 */
import { expect, test } from '@playwright/test';
import { buildTree, cleanup, type FixtureTree } from '../../bench/fixture-tree.mjs';
import { PrivateAgent } from '../support/agent';
import config from '../playwright.config';

const baseLaunchOptions = config.use?.launchOptions ?? {};

const PAIRS = 100_000;
let tree: FixtureTree;
let agent: PrivateAgent;

test.describe.configure({ mode: 'serial', timeout: 180_000 });
// Real scrollbars (headless Chromium hides them by default): the table's columns must line up
// with its header while the list shows one.
test.use({ launchOptions: { ...baseLaunchOptions, ignoreDefaultArgs: ['--hide-scrollbars'] } });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  tree = buildTree({ pairs: PAIRS });
  agent = new PrivateAgent({ intervalMs: 2000, extraArgs: ['--proc-root', tree.proc] });
  await agent.start();
});

test.afterAll(async () => {
  await agent?.stop();
  if (tree) cleanup(tree);
});

test('/connections at ~200k sockets: rows, a filter down to a few, scrolled to the last row', async ({ page }) => {
  const streams: string[] = [];
  page.on('websocket', (ws) => streams.push(ws.url()));
  await page.goto(`${agent.origin}/connections`);
  const rows = page.locator('.socket-table .vrow');
  await expect(rows.first()).toBeVisible({ timeout: 60_000 });
  const count = page.getByTestId('row-count');
  const total = Number((await count.locator('strong').innerText()).replace(/\D/g, ''));
  expect(total).toBeGreaterThan(190_000);
  // Only the rows in view are in the DOM.
  expect(await rows.count()).toBeLessThan(200);

  // The list has a scrollbar here, and every column's cells start where its header does.
  const edges = await page.evaluate(() => {
    const list = document.querySelector<HTMLElement>('.socket-table .vlist')!;
    const lefts = (els: NodeListOf<Element>) => [...els].map((e) => Math.round(e.getBoundingClientRect().left));
    return {
      scrollbar: list.offsetWidth - list.clientWidth,
      head: lefts(document.querySelectorAll('.socket-table .head > [role=columnheader]')),
      row: lefts(document.querySelector('.socket-table .vrow')!.querySelectorAll(':scope [role=cell]')),
    };
  });
  expect(edges.scrollbar).toBeGreaterThan(0);
  expect(edges.row).toEqual(edges.head);

  // The end of the table, from the keyboard.
  await rows.first().focus();
  await page.keyboard.press('End');
  // The last row, loaded from the agent: no longer drawn as loading (a loading row's cells are not
  // drawn), its state badge shown, and keyboard focus on it.
  const last = page.locator(`.socket-table .vrow[data-index="${total - 1}"]`);
  await expect(last).not.toHaveClass(/\bloading\b/, { timeout: 20_000 });
  await expect(last.locator('[data-state]')).toBeVisible();
  await expect(last).toBeFocused();
  await page.keyboard.press('Home');
  const first = page.locator('.socket-table .vrow[data-index="0"]');
  await expect(first).not.toHaveClass(/\bloading\b/, { timeout: 20_000 });
  await expect(first.locator('[data-state]')).toBeVisible();
  await expect(first).toBeFocused();
  // The table is paged by the agent: the page's stream carries no socket list.
  expect(streams.length).toBeGreaterThan(0);
  expect(streams.every((u) => u.endsWith('/ws?view=summary'))).toBe(true);

  // One outside peer address: a pair or two out of 100k.
  await page.getByLabel('Address or CIDR', { exact: true }).fill('203.0.113.42');
  await expect(page).toHaveURL(/addr=203\.0\.113\.42/, { timeout: 20_000 });
  await expect(count.locator('strong')).toHaveText(/^[1-9]$/, { timeout: 20_000 });
  const shown = await rows.count();
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBeLessThan(10);
  await expect(rows.first()).toContainText('203.0.113.42');
  await page.screenshot({ path: 'screenshots/scale-connections-filtered.png' });
});

test('/ and /wall at ~200k sockets: counts from the agent over the summary stream', async ({ page }) => {
  const streams: string[] = [];
  page.on('websocket', (ws) => streams.push(ws.url()));
  await page.goto(`${agent.origin}/`);
  const tiles = page.locator('.tiles');
  await expect(tiles).toContainText(/19\d,\d{3}/, { timeout: 30_000 });
  await expect(page.locator('section', { hasText: 'Top remote addresses' })).toContainText('198.51.100.7');
  await expect(page.locator('section', { hasText: 'Listening services' })).toContainText('nginx');
  // The page asked for no socket list.
  expect(streams.length).toBeGreaterThan(0);
  expect(streams.every((u) => u.endsWith('/ws?view=summary'))).toBe(true);
  await page.screenshot({ path: 'screenshots/scale-overview.png' });

  await page.goto(`${agent.origin}/wall`);
  await expect(page.getByTestId('wall')).not.toHaveAttribute('data-seq', '', { timeout: 30_000 });
  await expect(page.getByTestId('wall')).toContainText('127.0.0.1');
  await page.screenshot({ path: 'screenshots/scale-wall.png' });
});

test('pages without a socket list at ~200k sockets: summary stream only, the agent\'s counts', async ({ page }) => {
  const streams: string[] = [];
  page.on('websocket', (ws) => streams.push(ws.url()));
  for (const [path, heading] of [
    ['/routes', 'Routes'],
    ['/interfaces', 'Interfaces'],
    ['/stats', 'Statistics'],
    ['/alerts', 'Alerts'],
    ['/diagnostics', 'Diagnostics'],
  ] as const) {
    await page.goto(`${agent.origin}${path}`);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible({ timeout: 30_000 });
    await expect(page.locator('.empty.loading')).toHaveCount(0, { timeout: 30_000 });
  }
  // Diagnostics counts every socket from the agent's summary, not from a list it does not have.
  await expect(page.locator('dt:text-is("Sockets") + dd')).toHaveText(/^19\d,\d{3}$/);
  await page.screenshot({ path: 'screenshots/scale-diagnostics.png' });
  expect(streams.length).toBeGreaterThan(0);
  expect(streams.every((u) => u.endsWith('/ws?view=summary'))).toBe(true);
});

test('/processes (and one process), /listening and /remote at ~200k sockets: tables from the agent, no socket list in the page', async ({ page }) => {
  const streams: string[] = [];
  page.on('websocket', (ws) => streams.push(ws.url()));
  await page.goto(`${agent.origin}/processes`);
  const nginx = page.locator('table.data tr.clickable', { hasText: 'nginx' }).first();
  await expect(nginx).toBeVisible({ timeout: 30_000 });
  // The process holding most of the 200k sockets, counted by the agent.
  await expect(page.locator('table.data tr.clickable').first().locator('td').nth(3)).toHaveText(/^\d{1,3}(,\d{3})+$/);
  await page.screenshot({ path: 'screenshots/scale-processes.png' });

  // Click through to the process: its page gets its sockets from the agent too.
  await page.locator('table.data tr.clickable').first().click();
  await expect(page).toHaveURL(/\/processes\/\d+$/);
  await expect(page.getByRole('heading', { name: /^Connections \(\d{1,3}(,\d{3})+\)$/ })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('process-connections-cut')).toContainText('Showing the first 1,000 of');
  await expect(page.locator('.socket-table .vrow').first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/scale-process.png' });

  await page.goto(`${agent.origin}/listening`);
  await expect(page.locator('table.data tbody tr', { hasText: 'nginx' }).first()).toBeVisible({ timeout: 30_000 });

  await page.goto(`${agent.origin}/remote`);
  await expect(page.locator('tr[data-address="198.51.100.7"]')).toBeVisible({ timeout: 30_000 });
  // Searched by the agent: one peer out of all of them.
  await page.getByLabel('Filter addresses').fill('203.0.113.42');
  await expect(page.locator('table.data tbody tr')).toHaveCount(1, { timeout: 20_000 });
  await expect(page.locator('tr[data-address="203.0.113.42"]')).toBeVisible();
  await page.screenshot({ path: 'screenshots/scale-remote.png' });

  expect(streams.length).toBeGreaterThan(0);
  expect(streams.every((u) => u.endsWith('/ws?view=summary'))).toBe(true);
});
