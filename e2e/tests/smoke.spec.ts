import { expect, test } from '@playwright/test';
import { shot, watchErrors } from '../support/page';

const ROUTES = ['/', '/connections', '/processes', '/listening', '/remote', '/routes', '/interfaces', '/stats'];

test.describe('every view renders live data without errors', () => {
  for (const path of ROUTES) {
    test(`${path} renders`, async ({ page }) => {
      const errors = watchErrors(page);
      await page.goto(path);
      await expect(page.getByText(/live/i).first()).toBeVisible();
      await page.waitForTimeout(1200); // at least two deltas applied
      await shot(page, `smoke${path === '/' ? '-overview' : path.replace(/\//g, '-')}`);
      expect(errors).toEqual([]);
    });
  }
});

test('the API answers beside the page', async ({ request }) => {
  const health = await request.get('/api/health');
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok' });
  const snap = await request.get('/api/snapshot');
  const body = (await snap.json()) as { sockets: unknown[]; routes: unknown[]; interfaces: unknown[]; stats: unknown };
  expect(body.sockets.length).toBeGreaterThan(0);
  expect(body.interfaces.length).toBeGreaterThan(0);
});
