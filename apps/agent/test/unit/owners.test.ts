import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCmdline, scanOwners, socketInodeOfLink } from '../../src/procfs/owners.js';
import { FdWalker } from '../../src/procfs/table-reader.js';

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

  it.each([1, 2, 3])('the cold walk on %i worker thread(s) finds the same as scanOwners', async (parts) => {
    // shared sockets across the split: pid 100 and 101 go to different workers when parts > 1
    const walked = await new FdWalker(parts).walk(root);
    const { ms: _a, ...want } = await scanOwners(root);
    expect(walked).not.toBeNull();
    const { ms: _b, table, ...got } = walked!;
    expect(table.map((t) => t.pid)).toEqual([100, 101, 200, 300]);
    expect(table.find((t) => t.pid === 100)).toMatchObject({ fds: [0, 6, 7], inodes: [0, 1001, 1002] });
    expect(got).toEqual(want);
    expect([...got.processes.keys()]).toEqual([...want.processes.keys()]);
  });

  it('returns an empty scan for a missing root instead of throwing', async () => {
    const scan = await scanOwners(join(root, 'nope'));
    expect(scan.byInode.size).toBe(0);
    expect(scan.pidsScanned).toBe(0);
  });
});
