// The bench scripts' command lines: a bad flag or value is one line naming it and exit 2, before
// any socket is opened or BENCHMARKS.md touched; --help prints the usage and exits 0.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const run = (script: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [`bench/${script}`, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

describe('bench command lines', () => {
  it.each([
    ['run.mjs', ['--bogus'], "bench: Unknown option '--bogus'"],
    ['run.mjs', ['--', '--runs', '2'], 'bench: --runs must be a whole number of at least 3, got "2"'],
    ['run.mjs', ['--runs', '5x'], 'bench: --runs must be a whole number of at least 3, got "5x"'],
    ['run.mjs', ['--scales', '1000,abc'], 'bench: --scales must be a whole number from 1 to 200000, got "abc"'],
    ['run.mjs', ['--scales', '1000,,10000'], 'bench: --scales must be a comma-separated list of whole numbers, got "1000,,10000"'],
    ['run.mjs', ['--scales', '300000'], 'bench: --scales must be a whole number from 1 to 200000, got "300000"'],
    ['run.mjs', ['--out'], "bench: Option '--out <value>' argument missing"],
    ['footprint.mjs', ['--pairs', '0'], 'footprint: --pairs must be a whole number from 1 to 200000, got "0"'],
    ['footprint.mjs', ['--window', ''], 'footprint: --window must be a whole number of at least 1, got ""'],
    ['footprint.mjs', ['--compare', '/no/such/main.js'], 'footprint: --compare /no/such/main.js: no such file (build it first)'],
    ['footprint.mjs', ['--compare-node-flags=--single-threaded'], 'footprint: --compare-node-flags needs --compare'],
    ['views.mjs', ['--pairs', '1e5'], 'views: --pairs must be a whole number from 1 to 200000, got "1e5"'],
    ['fixture-tree.mjs', ['--owners=-3'], 'fixture-tree: --owners must be a whole number of at least 1, got "-3"'],
    ['browser.mjs', ['--churn', '2'], 'bench:browser: --churn must be a share from 0 to 1 (0.01 = 1%), got "2"'],
    ['browser.mjs', ['--pages', 'overview,nope'], 'bench:browser: --pages: no page "nope"'],
    ['browser.mjs', ['--churn', '0.01', '--url', 'http://127.0.0.1:8080'], 'bench:browser: --churn needs the tree this script builds'],
  ])('%s %j: says what is wrong, exits 2', (script, args, message) => {
    const r = run(script, ...args);
    expect(r.status).toBe(2);
    expect(r.err.split('\n')[0]).toContain(message);
    expect(r.err).toMatch(/^usage: /m);
    expect(r.err).not.toMatch(/\bat .*\.mjs:\d+/); // no stack trace
    expect(r.out).toBe('');
  });

  it.each(['run.mjs', 'footprint.mjs', 'views.mjs', 'browser.mjs', 'fixture-tree.mjs'])('%s --help prints the usage and exits 0', (script) => {
    const r = run(script, '--help');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^usage: (pnpm bench|node bench\/)/);
    expect(r.err).toBe('');
  });
});
