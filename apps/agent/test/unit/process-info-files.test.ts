/**
 * ProcessInfoFiles on the live /proc and real child processes: the same answer as
 * readProcessInfo, an exec or a new process title seen through the descriptors kept open, exited
 * processes and unused descriptors let go.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessInfoFiles, readProcessInfo } from '../../src/procfs/owners.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  return c;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const openFds = () => readdirSync('/proc/self/fd').length;

async function until<T>(read: () => T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = read();
  while (!ok(v) && Date.now() < deadline) {
    await sleep(50);
    v = read();
  }
  return v;
}

describe('ProcessInfoFiles (live /proc)', () => {
  it('answers as readProcessInfo does: comm, command line, owner', async () => {
    const c = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'netscope-arg']);
    await sleep(200);
    const files = new ProcessInfoFiles('/proc');
    const got = files.read(c.pid!);
    expect(got).toEqual(readProcessInfo('/proc', c.pid!));
    expect(got.cmdline).toContain('netscope-arg');
    expect(got.uid).toBe(process.getuid!());
    expect(files.size).toBe(1);
    files.close();
  });

  it('an exec, read again through the same descriptors', async () => {
    const c = start('/bin/sh', ['-c', 'sleep 0.4; exec sleep 30']);
    const files = new ProcessInfoFiles('/proc');
    await until(() => files.read(c.pid!).program, (p) => p === 'sh');
    const after = await until(() => files.read(c.pid!), (i) => i.program === 'sleep');
    expect(after).toMatchObject({ program: 'sleep', cmdline: 'sleep 30' });
    expect(files.size).toBe(1);
    files.close();
  });

  it('a new process title (setproctitle), read again through the same descriptors', async () => {
    const c = start(process.execPath, ['-e', "setTimeout(() => { process.title = 'nstitle-xyz'; }, 300); setInterval(() => {}, 1000)"]);
    const files = new ProcessInfoFiles('/proc');
    await until(() => files.read(c.pid!).program, (p) => p === 'node' || p.startsWith('node'));
    // node writes the title into argv (cmdline) and then sets comm (prctl): two writes a read can fall between
    const after = await until(() => files.read(c.pid!), (i) => i.cmdline === 'nstitle-xyz' && i.program === 'nstitle-xyz');
    expect(after.cmdline).toBe('nstitle-xyz');
    expect(after).toEqual(readProcessInfo('/proc', c.pid!));
    files.close();
  });

  it('an exited process: "?" and its descriptors closed', async () => {
    const before = openFds();
    const c = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await sleep(200);
    const files = new ProcessInfoFiles('/proc');
    expect(files.read(c.pid!).program).not.toBe('?');
    expect(openFds()).toBe(before + 2);
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
    await sleep(100); // reaped by node: /proc/<pid> is gone
    expect(files.read(c.pid!)).toEqual({ pid: c.pid, program: '?', cmdline: null, uid: null });
    expect(files.size).toBe(0);
    expect(openFds()).toBe(before);
  });

  it('sweep() closes what was not read since the last sweep; past maxOpen it reads without keeping', async () => {
    const a = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const b = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await sleep(200);
    const before = openFds();
    const files = new ProcessInfoFiles('/proc');
    files.read(a.pid!);
    files.read(b.pid!);
    files.sweep();
    expect(files.size).toBe(2);
    files.read(a.pid!);
    files.sweep();
    expect(files.size).toBe(1);
    files.close();
    expect(openFds()).toBe(before);

    const one = new ProcessInfoFiles('/proc', 1);
    one.read(a.pid!);
    expect(one.read(b.pid!)).toEqual(readProcessInfo('/proc', b.pid!));
    expect(one.size).toBe(1);
    one.close();
  });
});
