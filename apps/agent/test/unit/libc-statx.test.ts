// statxInoSize against node's statSync on the same paths: the owner walk trusts its inode (a new
// one is a new process) and its size (the open fd count of /proc/<pid>/fd).
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statxInoSize, type InoSize } from '../../src/libc.js';

const dir = mkdtempSync(join(tmpdir(), 'netscope-statx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('statxInoSize', () => {
  const statx = statxInoSize();

  it('is callable here (koffi and glibc ≥ 2.28)', () => {
    expect(statx).not.toBeInstanceOf(Error);
  });

  it('gives the inode and size statSync gives: /proc/self/fd, /proc/1/fd, a file past 4 GiB of size', () => {
    if (statx instanceof Error) throw statx;
    const big = join(dir, 'sparse');
    writeFileSync(big, '');
    // a sparse file whose size needs the high 32 bits
    const fd = openSync(big, 'r+');
    ftruncateSync(fd, 5 * 2 ** 32 + 7);
    closeSync(fd);
    for (const path of ['/proc/self/fd', '/proc/1/fd', '/proc', big]) {
      const out: InoSize = { ino: -1, size: -1 };
      expect(statx(path, out), path).toBeNull();
      const st = statSync(path);
      // /proc/self/fd's count moves with node's own fds: the inode is fixed, the count near
      if (path === '/proc/self/fd') expect(Math.abs(out.size - st.size)).toBeLessThanOrEqual(2);
      else expect(out.size, path).toBe(st.size);
      expect(out.ino, path).toBe(st.ino);
    }
  });

  it("answers a missing path with statSync's code, and leaves the answer as it was", () => {
    if (statx instanceof Error) throw statx;
    const out: InoSize = { ino: 5, size: 6 };
    expect(statx(join(dir, 'nope'), out)).toBe('ENOENT');
    expect(statx(join(dir, 'sparse', 'below-a-file'), out)).toBe('ENOTDIR');
    expect(out).toEqual({ ino: 5, size: 6 });
  });
});
