// OpenFiles: the live /proc and /sys files a tick reads, kept open and read again from offset 0.
// Checked against the kernel's own files (fresh text through an old descriptor), and against a
// temporary tree for what /proc cannot be made to do (a descriptor closed behind its back).
import { closeSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OpenFiles, keepFilesOpen, readSource } from '../../src/procfs/source.js';
import { Collector } from '../../src/collect/collector.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;
const tmp = mkdtempSync(join(tmpdir(), 'netscope-open-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  keepFilesOpen(null);
});

describe('OpenFiles', () => {
  it('reads the kernel text afresh through the same descriptor', async () => {
    const files = new OpenFiles(['/proc']);
    const first = files.read('/proc/uptime');
    const fd = files.fdOf('/proc/uptime');
    expect(fd).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 60)); // uptime counts in 10 ms steps
    const second = files.read('/proc/uptime');
    expect(files.fdOf('/proc/uptime')).toBe(fd);
    expect(Number(second.split(' ')[0])).toBeGreaterThan(Number(first.split(' ')[0]));
    // a table: the same text readFileSync gives (TCP lines change under us; the header does not)
    expect(files.read('/proc/net/snmp').split('\n')[0]).toBe(readFileSync('/proc/net/snmp', 'utf8').split('\n')[0]);
    files.close();
  });

  it('holds one descriptor per file however often it reads, and sweeps the ones not read since the last sweep', () => {
    const files = new OpenFiles(['/proc']);
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      files.read('/proc/net/sockstat');
      files.read('/proc/net/netstat');
    }
    expect(openFds()).toBe(before + 2);
    files.sweep(); // both read since the start: kept
    files.read('/proc/net/sockstat');
    files.sweep(); // netstat not read since the last sweep: closed
    expect(files.fdOf('/proc/net/netstat')).toBeUndefined();
    expect(files.fdOf('/proc/net/sockstat')).toBeDefined();
    expect(openFds()).toBe(before + 1);
    files.close();
    expect(openFds()).toBe(before);
  });

  it('reads a file bigger than its buffer whole, and keeps the grown buffer for the next', () => {
    const big = join(tmp, 'big');
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`).join('\n');
    writeFileSync(big, text);
    expect(text.length).toBeGreaterThan(OpenFiles.BUF_BYTES * 8);
    const files = new OpenFiles([tmp]);
    expect(files.read(big)).toBe(text);
    expect(files.read(big)).toBe(text);
    // reads ask for about last time's size: a file that grew since is still read whole, and one that shrank
    const grown = join(tmp, 'grows');
    writeFileSync(grown, 'small\n');
    expect(files.read(grown)).toBe('small\n');
    writeFileSync(grown, text);
    expect(files.read(grown)).toBe(text);
    writeFileSync(grown, 'small again\n');
    expect(files.read(grown)).toBe('small again\n');
    files.close();
  });

  it('reads files of every size around its read sizes whole (a short read ends the file)', () => {
    const files = new OpenFiles([tmp]);
    for (const size of [0, 1, 2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193, 65_536, 70_001]) {
      const f = join(tmp, `size-${size}`);
      const text = Array.from({ length: size }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      writeFileSync(f, text);
      expect(files.read(f)).toBe(text);
      expect(files.read(f)).toBe(text); // again, asking for last time's size
    }
    files.close();
  });

  it('reads a kernel table of many pages whole (seq_file gives a page or so per read)', async () => {
    // 150 listening unix sockets with long paths: /proc/net/unix grows by ~20 KB, five pages or more
    const dir = mkdtempSync(join(tmpdir(), 'netscope-open-files-unix-'));
    const servers: net.Server[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(join(dir, `listener-with-a-long-name-to-fill-pages-${String(i).padStart(3, '0')}.sock`), resolve);
        });
        servers.push(server);
      }
      const files = new OpenFiles(['/proc']);
      /** Inodes (7th field) of the lines after the header. */
      const inodes = (t: string) => t.split('\n').slice(1).filter((l) => l !== '').map((l) => l.trim().split(/\s+/)[6]!);
      for (let round = 0; round < 2; round++) {
        const before = new Set(inodes(readFileSync('/proc/net/unix', 'utf8')));
        const text = files.read('/proc/net/unix');
        const after = new Set(inodes(readFileSync('/proc/net/unix', 'utf8')));
        expect(text.length).toBeGreaterThan(5 * 4096);
        expect(text.endsWith('\n')).toBe(true);
        // each of ours exactly once: no page missed or read twice
        for (let i = 0; i < 150; i++) expect(text.split(`fill-pages-${String(i).padStart(3, '0')}.sock`)).toHaveLength(2);
        // every socket a plain read listed both before and after it is in it (the count moves
        // meanwhile: other processes open and close unix sockets, e.g. a socketpair per child stdio)
        const got = new Set(inodes(text));
        expect([...before].filter((i) => after.has(i) && !got.has(i))).toEqual([]);
      }
      files.close();
    } finally {
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens the path again when its descriptor fails (an interface that went away)', () => {
    const f = join(tmp, 'mtu');
    writeFileSync(f, '1500\n');
    const files = new OpenFiles([tmp]);
    expect(files.read(f)).toBe('1500\n');
    closeSync(files.fdOf(f)!); // EBADF on the next read, as ENODEV for a removed sysfs node
    writeFileSync(f, '9000\n');
    expect(files.read(f)).toBe('9000\n');
    rmSync(f);
    files.sweep();
    files.sweep(); // not read since the last sweep: closed
    expect(files.fdOf(f)).toBeUndefined();
    expect(() => files.read(f)).toThrow(/ENOENT/);
    files.close();
  });

  it('keeps the descriptor of an attribute that refuses to show a value (EINVAL), without reopening it', () => {
    const speed = readdirSync('/sys/class/net')
      .map((i) => `/sys/class/net/${i}/speed`)
      .find((p) => {
        try {
          readFileSync(p, 'utf8');
          return false;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'EINVAL';
        }
      });
    if (speed === undefined) return; // no virtual interface here (lo has none on some kernels)
    const files = new OpenFiles(['/sys']);
    expect(() => files.read(speed)).toThrow(/EINVAL/);
    const fd = files.fdOf(speed);
    expect(fd).toBeDefined();
    expect(() => files.read(speed)).toThrow(/EINVAL/);
    expect(files.fdOf(speed)).toBe(fd);
    files.close();
  });
});

describe('readSource with keepFilesOpen', () => {
  it('keeps files of the roots given open, and reads others anew each time', async () => {
    const mine = join(tmp, 'replaced');
    writeFileSync(mine, 'one\n');
    const files = keepFilesOpen(['/proc'])!;
    const a = await readSource('/proc', 'net/sockstat');
    expect(a.ok && a.text.startsWith('sockets: used')).toBe(true);
    expect(files.fdOf('/proc/net/sockstat')).toBeDefined();
    // not a kept root: a file replaced by a new one (as a fixture tree's) is read anew
    expect(await readSource(tmp, 'replaced')).toMatchObject({ ok: true, text: 'one\n' });
    rmSync(mine);
    writeFileSync(mine, 'two\n');
    expect(await readSource(tmp, 'replaced')).toMatchObject({ ok: true, text: 'two\n' });
    expect(files.fdOf(mine)).toBeUndefined();
    expect(await readSource('/proc', 'net/no-such-file')).toMatchObject({ ok: false, state: 'missing' });
  });

  it('a live collector keeps /proc files open, but not those of a --sys-root other than /sys', async () => {
    const sys = mkdtempSync(join(tmpdir(), 'netscope-sys-root-'));
    try {
      new Collector({ roots: { proc: '/proc', sys, etc: '/etc' }, intervalMs: 1000, owners: false, live: true });
      writeFileSync(join(sys, 'mtu'), '1500\n');
      expect(await readSource(sys, 'mtu')).toMatchObject({ ok: true, text: '1500\n' });
      rmSync(join(sys, 'mtu'));
      writeFileSync(join(sys, 'mtu'), '9000\n'); // a new file: an old descriptor would still read 1500
      expect(await readSource(sys, 'mtu')).toMatchObject({ ok: true, text: '9000\n' });
      expect(await readSource('/proc', 'net/sockstat')).toMatchObject({ ok: true });
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});
