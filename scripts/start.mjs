#!/usr/bin/env node
// `pnpm start [-- flags]`: build what is missing or out of date (agent bundle, web app), then run
// the agent in this process with the given flags. Progress goes to stderr so `--once` stdout stays JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(paths) {
  let newest = 0;
  const walk = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'dist') walk(join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  paths.forEach((p) => walk(join(root, p)));
  return newest;
}

function outdated(output, inputs) {
  const out = join(root, output);
  return !existsSync(out) || statSync(out).mtimeMs < newestMtime(inputs);
}

function build(what, filter) {
  process.stderr.write(`netscope: building ${what}…\n`);
  const t0 = Date.now();
  const r = spawnSync('pnpm', ['--filter', filter, 'run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    process.stderr.write(`netscope: building ${what} failed (exit ${r.status ?? r.signal}); see the output above\n`);
    process.exit(1);
  }
  process.stderr.write(`netscope: built ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

const shared = ['packages/shared/src'];
if (outdated('apps/agent/dist/main.js', ['apps/agent/src', 'apps/agent/build.mjs', 'apps/agent/package.json', ...shared])) {
  build('the agent', '@netscope/agent');
}
if (
  outdated('apps/web/dist/index.html', [
    'apps/web/src',
    'apps/web/index.html',
    'apps/web/vite.config.ts',
    'apps/web/package.json',
    'apps/web/public',
    ...shared,
  ])
) {
  build('the web app', '@netscope/web');
}

await import(new URL('../apps/agent/dist/main.js', import.meta.url).href);
