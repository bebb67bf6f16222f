import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedParse } from '../../src/procfs/source.js';
import { readRoute } from '../../src/procfs/route.js';
import { readIpv6Route } from '../../src/procfs/ipv6_route.js';
import { readIfInet6 } from '../../src/procfs/if_inet6.js';
import { readIgmp, readIgmp6 } from '../../src/procfs/igmp.js';
import { fixtureRoots, fixtureText } from './nethelpers.js';

describe('cachedParse', () => {
  it('parses once per text: the same text gives the same result, a new text a new parse', () => {
    let calls = 0;
    const parse = (text: string): { words: string[] } => {
      calls++;
      return { words: text.split(' ') };
    };
    const a = cachedParse('/kept/a', 'x y', parse);
    expect(cachedParse('/kept/a', 'x y', parse)).toBe(a);
    expect(calls).toBe(1);
    const b = cachedParse('/kept/a', 'x y z', parse);
    expect(b).toEqual({ words: ['x', 'y', 'z'] });
    expect(calls).toBe(2);
    // back to the first text: parsed again (only the last text of a file is kept)
    const c = cachedParse('/kept/a', 'x y', parse);
    expect(c).not.toBe(a);
    expect(c).toEqual(a);
    expect(calls).toBe(3);
  });

  it('keys on the file and the parser: another file or parser with the same text parses anew', () => {
    let calls = 0;
    const p1 = (t: string): string[] => (calls++, [t]);
    const p2 = (t: string): string[] => (calls++, [t, t]);
    const a = cachedParse('/kept/b', 'same', p1);
    expect(cachedParse('/kept/c', 'same', p1)).not.toBe(a);
    expect(cachedParse('/kept/b', 'same', p2)).toEqual(['same', 'same']);
    expect(calls).toBe(3);
  });

  it('keeps at most 64 files, dropping the one parsed longest ago', () => {
    let calls = 0;
    const parse = (t: string): string[] => (calls++, [t]);
    const first = cachedParse('/kept/fifo/0', 't', parse);
    for (let i = 1; i < 64; i++) cachedParse(`/kept/fifo/${i}`, 't', parse);
    expect(cachedParse('/kept/fifo/0', 't', parse)).toBe(first); // 64 files: all kept
    expect(calls).toBe(64);
    cachedParse('/kept/fifo/64', 't', parse); // the 65th drops /kept/fifo/0
    expect(cachedParse('/kept/fifo/63', 't', parse)).toEqual(['t']);
    expect(calls).toBe(65);
    expect(cachedParse('/kept/fifo/0', 't', parse)).not.toBe(first);
    expect(calls).toBe(66);
  });
});

describe('the seldom-changing sources keep their records while the file is unchanged', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('route, ipv6_route, if_inet6, igmp, igmp6: same records while unchanged, new ones once the file changes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'netscope-kept-'));
    cpSync(fixtureRoots('crafted').proc, join(dir, 'proc'), { recursive: true });
    const roots = { proc: join(dir, 'proc'), sys: join(dir, 'sys'), etc: join(dir, 'etc') };
    const readers = { route: readRoute, ipv6_route: readIpv6Route, if_inet6: readIfInet6, igmp: readIgmp, igmp6: readIgmp6 };
    for (const [file, read] of Object.entries(readers)) {
      const first = await read(roots);
      expect(first.data.length, file).toBeGreaterThan(0);
      const again = await read(roots);
      expect(again.data, file).toBe(first.data);
      expect(again.status, file).toEqual({ ...first.status, ms: again.status.ms });
      // one line fewer: read afresh, not the kept records
      const lines = fixtureText('crafted', `net/${file}`).split('\n');
      const dropAt = file === 'route' ? 1 : file === 'igmp' ? 2 : 0; // route: after its header; igmp: a group line, not a device line
      writeFileSync(join(roots.proc, 'net', file), [...lines.slice(0, dropAt), ...lines.slice(dropAt + 1)].join('\n'));
      const changed = await read(roots);
      expect(changed.data, file).not.toBe(first.data);
      expect(changed.data.length, file).toBeLessThan(first.data.length);
    }
  });
});
