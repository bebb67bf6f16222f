// Bundles the agent (with @netscope/shared inlined) into dist/main.js; npm dependencies stay external.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@netscope/'));

// Split: what only the server needs (express, ws, the history store: ~300 ms of module loading)
// is imported when the server starts, so `--once` does not pay for it. Old chunks go first.
rmSync(new URL('./dist/chunks', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outdir: new URL('./dist', import.meta.url).pathname,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  define: { __AGENT_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
