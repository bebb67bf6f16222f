import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCmdline, scanOwners, socketInodeOfLink } from '../../src/procfs/owners.js';
import { FdWalker } from '../../src/procfs/table-reader.js';
import { loopbackPair } from '../helpers/loopback.js';

describe('socketInodeOfLink', () => {
  it.each([
    ['socket:[12345]', 12345],
    ['socket:[0]', 0],
    ['pipe:[12345]', null],
    ['socket:[12x]', null],
    ['socket:[]', null],
    ['/dev/null', null],
    ['socket:[123', null],
  ])('%s → %s', (link, want) => expect(socketInodeOfLink(link)).toBe(want));
});

describe('parseCmdline', () => {
  it('joins argv with spaces and treats an empty cmdline as none', () => {
    expect(parseCmdline('nginx: master process\0-g\0daemon off;\0')).toBe('nginx: master process -g daemon off;');
    expect(parseCmdline('')).toBeNull();
    expect(parseCmdline('\0')).toBeNull();
  });
});

describe('scanOwners on a fake /proc', () => {
  const root = mkdtempSync(join(tmpdir(), 'netscope-owners-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: number, comm: string, fds: Record<string, string>) => {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
    writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
    writeFileSync(join(root, String(pid), 'cmdline'), `${comm}\0--flag\0`);
    for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(root, String(pid), 'fd', fd));
  };
  proc(100, 'nginx', { '0': '/dev/null', '6': 'socket:[1001]', '7': 'socket:[1002]' });
  proc(101, 'nginx', { '6': 'socket:[1001]' }); // forked worker shares the listener
  proc(200, 'sshd', { '3': 'socket:[2001]', '4': 'pipe:[9]' });
  proc(300, 'idle', { '0': '/dev/null' });
  // a "process" whose fd is not a directory behaves like one that exited mid-scan
  mkdirSync(join(root, '400'));
  writeFileSync(join(root, '400', 'fd'), '');
  mkdirSync(join(root, 'net')); // non-pid entries are ignored
  writeFileSync(join(root, 'self'), '');

  it('maps every socket inode to its holders and reads names once per process', async () => {
    const scan = await scanOwners(root);
    expect(scan.byInode.get(1001)).toEqual([
      { pid: 100, fd: 6 },
      { pid: 101, fd: 6 },
    ]);
    expect(scan.byInode.get(1002)).toEqual([{ pid: 100, fd: 7 }]);
    expect(scan.byInode.get(2001)).toEqual([{ pid: 200, fd: 3 }]);
    expect(scan.byInode.has(9)).toBe(false);
    expect([...scan.processes.keys()].sort()).toEqual([100, 101, 200]);
    expect(scan.processes.get(100)).toMatchObject({ program: 'nginx', cmdline: 'nginx --flag', socketCount: 2 });
    expect(scan.pidsScanned).toBe(5);
    expect(scan.pidsVanished).toBe(1);
  });

  it.each([
    [1, 'readlinkat'],
    [2, 'readlinkat'],
    [3, 'readlinkat'],
    [2, 'readlinkSync'],
  ] as const)('the cold walk on %i worker thread(s) with %s finds the same as scanOwners', async (parts, links) => {
    // shared sockets across the split: pid 100 and 101 may go to different workers when parts > 1
    const walker = new FdWalker(parts, links);
    const walked = await walker.walk(root);
    expect(walker.lastLinks).toBe(links);
    const { ms: _a, ...want } = await scanOwners(root);
    expect(walked).not.toBeNull();
    const { ms: _b, table, ...got } = walked!;
    expect(table.map((t) => t.pid)).toEqual([100, 101, 200, 300]);
    expect(table.find((t) => t.pid === 100)).toMatchObject({ fds: [0, 6, 7], inodes: [0, 1001, 1002] });
    expect(got).toEqual(want);
    expect([...got.processes.keys()]).toEqual([...want.processes.keys()]);
    // the one-shot form: the same holders from its compact index, the same processes and counts
    const looked = await new FdWalker(parts, links).lookup(root);
    const { ms: _c, byInode, ...rest } = looked!;
    const { byInode: wantByInode, ...wantRest } = want;
    expect(rest).toEqual(wantRest);
    for (const [inode, holders] of wantByInode) expect(byInode.get(inode)).toEqual(holders);
    expect(byInode.get(9)).toBeUndefined();
  });

  it('returns an empty scan for a missing root instead of throwing', async () => {
    const scan = await scanOwners(join(root, 'nope'));
    expect(scan.byInode.size).toBe(0);
    expect(scan.pidsScanned).toBe(0);
  });
});

describe('FdWalker on hostile links', () => {
  const root = mkdtempSync(join(tmpdir(), 'netscope-walker-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const links: Record<string, string> = {
    '0': 'socket:[12x]',
    '1': 'socket:[]',
    '2': 'socket:[123',
    '3': 'socket[123]',
    '4': `socket:[${'9'.repeat(21)}]`, // 21 digits: not an inode
    '5': `socket:[${'1'.repeat(20)}]`, // 20 digits: read as Number() reads them
    '6': `/${'x'.repeat(300)}`, // longer than the walker's link buffer
    '7': `socket:[${'7'.repeat(16)}]`,
    '8': 'socket:[0]',
    '9': 'socket:[4294967295]',
    '10': 'SOCKET:[5]',
    '11': 'socket:[ 5]',
  };
  mkdirSync(join(root, '500', 'fd'), { recursive: true });
  writeFileSync(join(root, '500', 'comm'), 'odd\n');
  for (const [fd, target] of Object.entries(links)) symlinkSync(target, join(root, '500', 'fd', fd));

  it.each(['readlinkat', 'readlinkSync'] as const)('reads them as scanOwners does (%s)', async (how) => {
    const walker = new FdWalker(2, how);
    const walked = await walker.walk(root);
    expect(walker.lastLinks).toBe(how);
    const { ms: _a, ...want } = await scanOwners(root);
    const { ms: _b, table, ...got } = walked!;
    expect(got).toEqual(want);
    expect([...got.byInode.keys()].sort((a, b) => a - b)).toEqual([4294967295, 7777777777777777, 11111111111111110000]);
    expect(table[0]).toMatchObject({ pid: 500, fds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] });
    const looked = (await new FdWalker(2, how).lookup(root))!;
    for (const [inode, holders] of want.byInode) expect(looked.byInode.get(inode)).toEqual(holders);
    expect(looked.byInode.get(0)).toBeUndefined();
  });
});

describe('FdWalker on the live /proc', () => {
  it('finds this process’s own sockets at their fds, with readlinkat and with readlinkSync', async () => {
    const pair = await loopbackPair();
    try {
      // this process's socket fds as node reads them, before and after the walks: those in both are stable
      const mine = () => {
        const m = new Map<number, number>();
        for (const name of readdirSync('/proc/self/fd')) {
          let link = '';
          try {
            link = readlinkSync(`/proc/self/fd/${name}`);
          } catch {
            continue;
          }
          const inode = socketInodeOfLink(link);
          if (inode !== null) m.set(inode, Number(name));
        }
        return m;
      };
      const before = mine();
      const fast = new FdWalker(2, 'readlinkat');
      const a = await fast.walk('/proc');
      const b = await new FdWalker(2, 'readlinkSync').walk('/proc');
      const after = mine();
      const c = await new FdWalker(2).lookup('/proc');
      expect(fast.lastLinks).toBe('readlinkat');
      const stable = [...before].filter(([inode, fd]) => after.get(inode) === fd);
      expect(stable.length).toBeGreaterThanOrEqual(3); // the listener and both ends of the connection
      for (const [inode, fd] of stable) {
        expect(a!.byInode.get(inode)).toContainEqual({ pid: process.pid, fd });
        expect(b!.byInode.get(inode)).toContainEqual({ pid: process.pid, fd });
        expect(c!.byInode.get(inode)).toContainEqual({ pid: process.pid, fd });
      }
      expect(a!.processes.get(process.pid)?.socketCount).toBeGreaterThanOrEqual(3);
    } finally {
      pair.close();
    }
  });
});
