import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const agent = process.env.NETSCOPE_AGENT ?? '127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      '@netscope/shared': fileURLToPath(new URL('../../packages/shared/src/index.ts', import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // CSP: no inline scripts; keep the module preload polyfill out (it is injected inline).
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  server: {
    host: '127.0.0.1',
    // The agent guards Host and Origin (DNS rebinding, cross-site ws): present the dev server's
    // requests as the agent's own origin.
    proxy: {
      '/api': { target: `http://${agent}`, changeOrigin: true },
      '/ws': { target: `ws://${agent}`, ws: true, changeOrigin: true, headers: { origin: `http://${agent}` } },
    },
  },
});
