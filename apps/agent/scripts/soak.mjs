#!/usr/bin/env node
// Soak check for alerts + history: bundles test/history/soak-entry.ts (esbuild, as build.mjs does)
// and runs it with --expose-gc so heap figures are after collection. Arguments pass through:
//   node apps/agent/scripts/soak.mjs --ticks 20000 [--live | --proc-root DIR]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const agentDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(agentDir, 'package.json'), 'utf8'));
// Inside node_modules so the bundle resolves the agent's dependencies, and nothing lands in the work tree.
const cache = join(agentDir, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'netscope-soak-'));
const outfile = join(out, 'soak.mjs');
await build({
  entryPoints: [join(agentDir, 'test/history/soak-entry.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@netscope/')),
  alias: { '@netscope/shared': fileURLToPath(new URL('../../../packages/shared/src/index.ts', import.meta.url)) },
  logLevel: 'warning',
});
const child = spawn(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: join(agentDir, '..', '..') });
child.on('exit', (code) => {
  rmSync(out, { recursive: true, force: true });
  process.exit(code ?? 1);
});
