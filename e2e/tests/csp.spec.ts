/**
 * The agent's Content-Security-Policy against the real built web app in Chromium (issue 5): every
 * view loads and streams with zero CSP violations, the policy forbids inline script and eval,
 * names the ws URL in connect-src, and is really enforced (an injected inline script is refused).
 */
import { expect, test, type Page } from '@playwright/test';

const ROUTES = ['/', '/connections', '/processes', '/listening', '/remote', '/routes', '/interfaces', '/stats'];

interface Violation {
  directive: string;
  blocked: string;
  sample: string;
}

declare global {
  interface Window {
    __cspViolations?: Violation[];
    __inlineRan?: boolean;
  }
}

/** Record every securitypolicyviolation event from the first byte of the page. */
async function watchCsp(page: Page): Promise<string[]> {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations!.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  const consoleCsp: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
  });
  return consoleCsp;
}

test('the CSP forbids inline script and eval, and names the ws URL', async ({ page, baseURL }) => {
  const res = await page.goto('/');
  const csp = res!.headers()['content-security-policy'] ?? '';
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
  expect(directives.get('script-src')).toEqual(["'self'"]);
  expect(csp).not.toMatch(/unsafe-eval/);
  expect(directives.get('connect-src')).toContain(baseURL!.replace(/^http/, 'ws'));
  expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
  expect(res!.headers()['referrer-policy']).toBe('no-referrer');
  expect(res!.headers()['x-content-type-options']).toBe('nosniff');
});

for (const path of ROUTES) {
  test(`${path}: no CSP violation while it loads and streams`, async ({ page }) => {
    const consoleCsp = await watchCsp(page);
    await page.goto(path);
    await expect(page.getByText(/live/i).first()).toBeVisible();
    await page.waitForTimeout(1200); // the stream delivers deltas over the ws URL in connect-src
    const violations = await page.evaluate(() => window.__cspViolations ?? []);
    expect(violations).toEqual([]);
    expect(consoleCsp).toEqual([]);
  });
}

// (eval cannot be probed from here: code run through the DevTools protocol is exempt from CSP.
// The header check above forbids it, and the app's own bundle loads with no violation.)
test('the CSP is enforced: an injected inline script is refused', async ({ page }) => {
  await watchCsp(page);
  await page.goto('/');
  await expect(page.getByText(/live/i).first()).toBeVisible();
  const inlineRan = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.appendChild(s);
    return window.__inlineRan === true;
  });
  expect(inlineRan).toBe(false);
  await expect.poll(async () => (await page.evaluate(() => window.__cspViolations ?? [])).map((v) => v.directive)).toContain('script-src-elem');
});
