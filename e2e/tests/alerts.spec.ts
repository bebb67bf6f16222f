/**
 * A real alert, end to end: a private agent with a lowered threshold on the spec's own local port
 * (perLocalPort > 20, raised after 0.5 s), 30 loopback pairs opened by the spec cross it, the wall
 * shows it in colour, /alerts explains it and links to the connections, closing the pairs clears
 * it. The per-port rule is used rather than host-wide ESTABLISHED because this machine carries
 * other developers' benchmarks (100k connections coming and going): only the spec's own port is
 * its own. The same listener is a watched service: up, then down once the spec closes it.
 */
import { expect, test } from '@playwright/test';
import { LoopbackPairs, PrivateAgent, quietPort } from '../support/agent';
import { shot, watchErrors } from '../support/page';

test('lowered threshold crossed by 30 loopback pairs: raised on /wall and /alerts, cleared after they close', async ({ browser }) => {
  test.setTimeout(300_000);
  const pairs = new LoopbackPairs();
  // Outside the ephemeral range: no other process's socket or listener shares the port the rules watch.
  const port = await pairs.listen(await quietPort());
  const agent = new PrivateAgent({
    intervalMs: 250,
    configYaml: [
      'alerts:',
      `  perLocalPort: { threshold: 20, raiseAfterSec: 0.5, clearAfterSec: 0.5, severity: critical, ports: [${port}] }`,
      'services:',
      `  - { port: ${port}, proto: tcp, name: e2e-listener }`,
      '',
    ].join('\n'),
  });
  await agent.start();
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  try {
    const wall = await ctx.newPage();
    const errors = watchErrors(wall);
    await wall.goto(`${agent.origin}/wall`);
    await expect(wall.getByTestId('wall-status')).toHaveAttribute('data-status', 'live', { timeout: 60_000 });
    const mine = wall.locator(`[data-testid=wall-alert][data-rule=perLocalPort]`);
    await expect(mine).toHaveCount(0);
    const svc = wall.getByTestId('wall-services').locator(`[data-service="${port}/tcp"]`);
    await expect(svc).toHaveAttribute('data-up', 'true', { timeout: 60_000 });
    await expect(svc).toContainText('e2e-listener');

    await pairs.open(30);
    await expect(mine).toBeVisible({ timeout: 90_000 });
    await expect(mine).toContainText(String(port));
    // The strip's background is the severity colour (critical: red).
    const bg = await wall.getByTestId('wall-alerts').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bg).toBe('rgb(220, 38, 38)');
    await shot(wall, 'wall-alert');

    // /alerts: what it means, what to look at, a link to the connections, the threshold in force.
    const page = await ctx.newPage();
    watchErrors(page);
    await page.goto(`${agent.origin}/alerts`);
    const card = page.locator(`[data-testid=alert-card][data-rule=perLocalPort]`);
    await expect(card).toBeVisible({ timeout: 60_000 });
    await expect(card.locator('.meaning')).not.toBeEmpty();
    await expect(card.locator('table.look tbody tr').first()).toBeVisible();
    await expect(card.getByTestId('alert-link')).toHaveAttribute('href', new RegExp(`/connections\\?port=${port}`));
    const thr = page.getByTestId('thresholds').locator('tr[data-rule=perLocalPort]');
    await expect(thr).toContainText('20');
    await expect(thr).toContainText(`ports ${port}`);
    await expect(page.getByTestId('alert-history').locator('tr[data-kind=raised]').first()).toBeVisible({ timeout: 30_000 });
    await shot(page, 'alerts');

    pairs.closePairs();
    await expect(mine).toHaveCount(0, { timeout: 90_000 });
    // The history shows it cleared (the log reloads when the active set changes).
    await expect(page.getByTestId('alert-history').locator('tr[data-kind=cleared]').first()).toBeVisible({ timeout: 30_000 });
    await expect(card).toHaveCount(0);

    // Watched service goes down: on the wall and in /listening, with since when.
    await pairs.close();
    await expect(svc).toHaveAttribute('data-up', 'false', { timeout: 60_000 });
    await expect(svc).toContainText('DOWN');
    await page.goto(`${agent.origin}/listening`);
    const row = page.getByTestId('watched-services').locator(`tr[data-service="${port}/tcp"]`);
    await expect(row).toHaveAttribute('data-up', 'false', { timeout: 30_000 });
    await expect(row).toContainText(/\d\d:\d\d:\d\d/);
    expect(errors).toEqual([]);
  } finally {
    await ctx.close();
    await agent.stop();
    await pairs.close();
  }
});
