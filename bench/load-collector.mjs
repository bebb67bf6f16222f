// The agent's Collector from its TypeScript sources, for the in-process bench scripts: bundled with
// the agent's esbuild inside its node_modules (so the bundle resolves koffi for sock_diag).
import { build } from '../apps/agent/node_modules/esbuild/lib/main.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function loadCollector() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cache = join(root, 'apps/agent/node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'netscope-tick-'));
  const out = join(dir, 'collector.mjs');
  await build({
    entryPoints: [join(root, 'apps/agent/src/collect/collector.ts')],
    outfile: out,
    bundle: true,
    external: ['koffi'],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  try {
    return (await import(out)).Collector;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
