// The kernel's notices of interface and address changes (LinkWatch), checked in a network namespace
// of the test's own (`unshare -n`: its loopback is changed, nothing of the machine's), and how a
// tick uses them (collectAggregates keeps the last /sys/class/net read while nothing changed).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSFS_KEPT_MESSAGE, collectAggregates, type AggregateState } from '../../src/collect/aggregates.js';
import { LinkWatch } from '../../src/netlink/link-watch.js';
import { fixtureRoots } from '../procfs/nethelpers.js';

const agentDir = fileURLToPath(new URL('../../', import.meta.url));
const canUnshare = spawnSync('unshare', ['-n', 'true']).status === 0 && spawnSync('ip', ['-V']).status === 0;
// the module bundled where koffi resolves (as bench/load-collector.mjs does), for a node child in the namespace
const cache = join(agentDir, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, 'netscope-link-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LinkWatch', () => {
  it('opens on this machine (koffi and libc are here)', () => {
    const w = LinkWatch.open();
    expect(w).toBeInstanceOf(LinkWatch);
    (w as LinkWatch).close();
  });

  it.runIf(canUnshare)('in a namespace of its own: a notice for each link and address change, none otherwise', async () => {
    const { build } = await import(join(agentDir, 'node_modules/esbuild/lib/main.js'));
    const out = join(dir, 'link-watch.mjs');
    await build({ entryPoints: [join(agentDir, 'src/netlink/link-watch.ts')], outfile: out, bundle: true, external: ['koffi'], platform: 'node', format: 'esm', logLevel: 'warning' });
    const script = `
      const { LinkWatch } = await import(${JSON.stringify(out)});
      const { execFileSync } = await import('node:child_process');
      const ip = (...a) => execFileSync('ip', a);
      const w = LinkWatch.open();
      const seen = {};
      seen.atStart = w.changed();
      ip('link', 'set', 'lo', 'up'); seen.up = w.changed();
      seen.again = w.changed();
      ip('link', 'set', 'lo', 'mtu', '1500'); seen.mtu = w.changed();
      ip('addr', 'add', '127.0.0.9/8', 'dev', 'lo'); seen.addr4 = w.changed();
      ip('-6', 'addr', 'add', 'fd00:5::1/64', 'dev', 'lo', 'nodad'); seen.addr6 = w.changed();
      seen.quiet = w.changed();
      ip('route', 'add', '127.9.0.0/16', 'dev', 'lo'); seen.routeOnly = w.changed();
      seen.failure = w.failure;
      console.log(JSON.stringify(seen));
    `;
    const r = spawnSync('unshare', ['-n', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      atStart: false,
      up: true,
      again: false,
      mtu: true,
      addr4: true,
      addr6: true,
      quiet: false,
      // routes are not watched: /proc/net/route and ipv6_route are read every tick
      routeOnly: false,
      failure: null,
    });
  });
});

describe('collectAggregates with linksUnchanged', () => {
  const roots = fixtureRoots('debian-live');
  const fresh = (): AggregateState => ({ prevTime: null, prevIfCounters: new Map(), prevStats: undefined });

  it('reads /sys/class/net on the first tick whatever it is told, then keeps that read while nothing changed', async () => {
    const first = await collectAggregates(roots, 1_000, fresh(), null, true);
    expect(first.sources.sysfs?.message).not.toBe(SYSFS_KEPT_MESSAGE);
    expect(first.interfaces.some((i) => i.mtu !== null)).toBe(true);
    const kept = await collectAggregates(roots, 2_000, first.state, null, true);
    expect(kept.sources.sysfs?.message).toBe(SYSFS_KEPT_MESSAGE);
    expect(kept.interfaces.map(({ name, mtu, flags, operstate, speedMbps, mac }) => ({ name, mtu, flags, operstate, speedMbps, mac }))).toEqual(
      first.interfaces.map(({ name, mtu, flags, operstate, speedMbps, mac }) => ({ name, mtu, flags, operstate, speedMbps, mac })),
    );
    // the same status object tick after tick: the stream's diff sees nothing new
    const again = await collectAggregates(roots, 3_000, kept.state, null, true);
    expect(again.sources.sysfs).toBe(kept.sources.sysfs);
    // told of a change: read again
    const changed = await collectAggregates(roots, 4_000, again.state, null, false);
    expect(changed.sources.sysfs?.message).not.toBe(SYSFS_KEPT_MESSAGE);
  });

  it('reads again when /proc/net/dev lists other interfaces, notices or not', async () => {
    const first = await collectAggregates(roots, 1_000, fresh(), null, false);
    const other: AggregateState = { ...first.state, sysfs: { ...first.state.sysfs!, names: 'lo\nsomething-else' } };
    const next = await collectAggregates(roots, 2_000, other, null, true);
    expect(next.sources.sysfs?.message).not.toBe(SYSFS_KEPT_MESSAGE);
  });
});
