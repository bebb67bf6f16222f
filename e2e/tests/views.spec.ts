/**
 * Every view at the two screen sizes an operator has (1920×1080, 1366×768), in both themes: each
 * goes live, shows its own content, draws without a page or console error, does not widen the
 * page, and is saved to e2e/screenshots/<view>-<width>-<theme>.png for a person to look at. The
 * operator's way: the sidebar's links and the theme button (which must stick across a reload);
 * the process page is reached from /processes by clicking the zoo's row.
 */
import { expect, test, type Page } from '@playwright/test';
import { startZoo, type Zoo } from '../support/zoo';
import { shot, watchErrors } from '../support/page';

let zoo: Zoo;
test.beforeAll(async () => {
  zoo = await startZoo();
});
test.afterAll(() => zoo?.stop());

const SLOW = 60_000; // first snapshot of ~200k sockets; the agent's interval stretches under load

/** name (for the file), sidebar label, path, something only that view shows once it has data. */
const VIEWS: readonly [string, string, string, (p: Page) => ReturnType<Page['locator']>][] = [
  ['overview', 'Overview', '/', (p) => p.locator('.tiles')],
  ['connections', 'Connections', '/connections', (p) => p.getByTestId('row-count')],
  ['processes', 'Processes', '/processes', (p) => p.locator('tr[data-key]').first()],
  ['listening', 'Listening', '/listening', (p) => p.locator('td.port').first()],
  ['remote', 'Remote', '/remote', (p) => p.locator('tr[data-address]').first()],
  ['routes', 'Routes', '/routes', (p) => p.getByRole('heading', { name: 'Routes', level: 1 })],
  ['interfaces', 'Interfaces', '/interfaces', (p) => p.getByRole('heading', { name: 'Interfaces', level: 1 })],
  ['stats', 'Statistics', '/stats', (p) => p.getByRole('heading', { name: 'Statistics', level: 1 })],
  ['diagnostics', 'Diagnostics', '/diagnostics', (p) => p.getByRole('heading', { name: 'Diagnostics', level: 1 })],
];

for (const [width, height] of [
  [1920, 1080],
  [1366, 768],
] as const) {
  for (const theme of ['dark', 'light'] as const) {
    test(`every view at ${width}×${height}, ${theme} theme: live, no errors, screenshot`, async ({ page }) => {
      test.setTimeout(300_000);
      const errors = watchErrors(page);
      await page.setViewportSize({ width, height });
      await page.goto('/');
      const html = page.locator('html');
      await expect(html).toHaveAttribute('data-theme', 'dark'); // the default
      if (theme === 'light') {
        await page.getByRole('button', { name: 'Switch to light theme' }).click();
        await expect(html).toHaveAttribute('data-theme', 'light');
        await page.reload(); // remembered
        await expect(html).toHaveAttribute('data-theme', 'light');
        await expect(page.getByRole('button', { name: 'Switch to dark theme' })).toBeVisible();
      }
      const nav = page.getByRole('navigation', { name: 'Views' });
      const check = async (name: string, ready: ReturnType<Page['locator']>) => {
        await expect(page.getByTestId('connection-status')).toHaveClass(/\blive\b/, { timeout: SLOW });
        await expect(ready, name).toBeVisible({ timeout: SLOW });
        await expect(page.getByText('Waiting for the first snapshot…')).toHaveCount(0);
        await expect(html).toHaveAttribute('data-theme', theme);
        await page.waitForTimeout(800); // charts drawn, fonts settled
        await shot(page, `${name}-${width}-${theme}`);
        expect(errors, `${name} at ${width} ${theme}`).toEqual([]);
        // Nothing wider than the window: wide tables scroll inside their panel, not the page (the
        // document) nor the main column (which would clip the right edge at 1366).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name}: page wider than ${width}`).toBeLessThanOrEqual(0);
        const mainOverflow = await page.locator('#main').evaluate((el) => el.scrollWidth - el.clientWidth);
        expect(mainOverflow, `${name}: main column wider than its box at ${width}`).toBeLessThanOrEqual(1);
      };
      for (const [name, label, path, ready] of VIEWS) {
        await nav.getByRole('link', { name: new RegExp(`^${label}\\b`) }).click();
        await expect(page).toHaveURL(new RegExp(`${path === '/' ? '/' : path}$`));
        await expect(nav.locator('a.exact-active')).toHaveAttribute('href', path);
        await check(name, ready(page));
        if (name === 'processes') {
          // The zoo's own page, from its row.
          await page.getByRole('searchbox', { name: 'Search processes' }).fill(String(zoo.pid));
          await page.locator(`tr[data-key="pid:${zoo.pid}"]`).click({ timeout: SLOW });
          await expect(page).toHaveURL(new RegExp(`/processes/${zoo.pid}$`));
          await check('process', page.getByRole('heading', { name: `node ${zoo.pid}` }));
        }
      }
    });
  }
}
