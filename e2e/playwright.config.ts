import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Playwright against the real, built agent on the live kernel, in Debian's Chromium.
 * `pnpm test:e2e` builds first; this config starts `node apps/agent/dist/main.js` itself.
 */
const port = Number(process.env.NETSCOPE_E2E_PORT ?? 18_080);
export const baseURL = `http://127.0.0.1:${port}`;
const dataDir = join(tmpdir(), `netscope-e2e-data-${port}`);

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1920, height: 1080 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    // Its own, fresh history store: never the user's ~/.local/state/netscope.
    command: `rm -rf ${dataDir} && node ../apps/agent/dist/main.js --port ${port} --interval 500 --quiet --data-dir ${dataDir}`,
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
