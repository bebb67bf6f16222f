import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@netscope/shared': fileURLToPath(new URL('./packages/shared/src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'apps/web/src/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**'],
    // Builds apps/agent/dist/main.js for the suites that attack the real binary (test/security).
    globalSetup: ['apps/agent/test/security/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
