// InetTableCache (reuse of last tick's Socket objects for byte-identical lines) against an uncached
// parse + build of the same text, over a sequence of edits between ticks: sockets added and removed
// (slot numbers shift), state/queue/owner changes, bad lines, a truncated last line, odd headers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InetProto, InetSocket } from '@netscope/shared';
import { InetTableCache } from '../../src/collect/inet-cache.js';
import { buildInetSocket, type NameMaps, type OwnerLookup } from '../../src/collect/sockets.js';
import { parseInetSockets } from '../../src/procfs/inet.js';
import type { OwnerRef } from '../../src/procfs/owners.js';

const FIXTURE = new URL('../fixtures/proc/live-loopback/net/', import.meta.url);
const tcpText = readFileSync(new URL('tcp', FIXTURE), 'utf8');
const tcp6Text = readFileSync(new URL('tcp6', FIXTURE), 'utf8');

const names: NameMaps = { users: new Map([[0, 'root']]), services: new Map([['tcp/2024', 'xinuparty']]) };
const NOW = 1_700_000_000_000;

function lookupOf(byInode: Map<number, OwnerRef[]>, programs: Map<number, string>): OwnerLookup {
  return { byInode, programOf: (pid) => programs.get(pid) ?? null };
}

function uncached(text: string, proto: InetProto, owners: OwnerLookup | null) {
  const p = parseInetSockets(text, proto);
  return { sockets: p.records.map((r) => buildInetSocket(r, NOW, names, owners, new Map())), badLines: p.badLines, sample: p.sample, message: p.message };
}

async function cachedBuild(cache: InetTableCache, text: string, owners: OwnerLookup | null) {
  const b = await cache.build(text, NOW, names, owners, new Map(), new Map());
  return { sockets: b.sockets, badLines: b.parse.badLines, sample: b.parse.sample, message: b.parse.message, reused: b.reused };
}

/** Renumber the slots as the kernel would. */
function renumber(lines: string[]): string[] {
  return lines.map((l, i) => l.replace(/^\s*\d+:/, `${String(i).padStart(4)}:`));
}

function split(text: string): { header: string; lines: string[] } {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return { header: all[0]!, lines: all.slice(1) };
}

const join = (header: string, lines: string[], newline = true) => [header, ...lines].join('\n') + (newline ? '\n' : '');

describe('InetTableCache = uncached parse + build', () => {
  it('over a sequence of edits to a 3000-line table', async () => {
    const cache = new InetTableCache('tcp');
    const byInode = new Map<number, OwnerRef[]>();
    const programs = new Map<number, string>([[10, 'nginx'], [11, 'nginx'], [20, 'sshd']]);
    const owners = lookupOf(byInode, programs);
    const { header, lines: all } = split(tcpText);
    const base = all.slice(0, 3000);
    const inodeOf = (l: string) => Number(l.trim().split(/\s+/)[9]);
    for (const l of base.slice(0, 500)) if (inodeOf(l) > 0) byInode.set(inodeOf(l), [{ pid: 10, fd: inodeOf(l) % 1000 }]);

    let lines = [...base];
    const check = async (text: string) => {
      const got = await cachedBuild(cache, text, owners);
      const want = uncached(text, 'tcp', owners);
      expect(got.sockets).toEqual(want.sockets);
      expect([got.badLines, got.sample, got.message]).toEqual([want.badLines, want.sample, want.message]);
      return got;
    };

    const first = await check(join(header, lines));
    expect(first.reused).toBe(0);
    const again = await check(join(header, lines));
    // every line without a running timer is reused (TIME_WAIT lines count down, so they change anyway)
    const idle = (xs: InetSocket[]) => xs.filter((s) => s.timer.code === 0).length;
    expect(again.reused).toBe(idle(again.sockets));
    expect(again.reused).toBeGreaterThan(5);
    const prevObjects = new Set(again.sockets);

    // remove 100 sockets near the top: every later slot number shifts, the lines still match
    lines = renumber([...lines.slice(0, 3), ...lines.slice(103)]);
    const shifted = await check(join(header, lines));
    // (a block of 100 gone: at most 64 lines after it are parsed again before the cache resyncs)
    expect(shifted.reused).toBeGreaterThanOrEqual(idle(shifted.sockets) - 64);
    expect(shifted.sockets.filter((s) => prevObjects.has(s)).length).toBe(shifted.reused);
    // scattered removals and insertions: every unchanged line is reused
    lines = renumber(lines.filter((_, i) => i % 10 !== 5));
    await check(join(header, lines));
    lines = renumber(lines.flatMap((l, i) => (i % 7 === 3 ? [l.replace(/ 00000000:00000000 /, ' 00000001:00000000 '), l] : [l])));
    lines = lines.map((l, i) => (i % 7 === 3 ? l.replace(/(\S+)(\s+\d+\s+\S+\s*)$/, '$1$2') : l));
    const scattered = await check(join(header, lines));
    expect(scattered.reused).toBeGreaterThan(0);

    // a queue changes, a state changes
    lines[1] = lines[1]!.replace(/ 00000000:00000000 /, ' 00000000:00000005 ');
    lines[2] = lines[2]!.replace(/ 0A /, ' 01 ');
    await check(join(header, lines));

    // owners change: a second holder, a new owner, an owner gone, the owner's program renamed
    const i0 = inodeOf(lines[0]!);
    byInode.set(i0, [{ pid: 10, fd: 5 }, { pid: 11, fd: 5 }]);
    byInode.set(inodeOf(lines[3]!), [{ pid: 20, fd: 3 }]);
    byInode.delete(inodeOf(lines[4]!));
    await check(join(header, lines));
    programs.set(20, 'sshd-session');
    await check(join(header, lines));

    // bad lines in the middle, then gone again
    const withBad = renumber([...lines.slice(0, 10), '  10: ZZZZZZZZ:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1', ...lines.slice(10)]);
    const bad = await check(join(header, withBad));
    expect(bad.badLines).toBe(1);
    await check(join(header, lines));

    // a truncated last line without a newline
    await check(join(header, [...lines.slice(0, -1), lines.at(-1)!.slice(0, 60)], false));
    // a complete last line without a newline
    await check(join(header, lines, false));
    // an unknown header; an empty file
    await check(join('garbage header', lines));
    await check('');
    await check(join(header, lines));
  });

  it('one-shot (retain: false) parses straight through, equal to the uncached parse', async () => {
    const { header, lines } = split(tcpText);
    for (const text of [tcpText, join(header, lines.slice(0, 50), false), join('garbage header', lines.slice(0, 20)), '']) {
      const cache = new InetTableCache('tcp', 15, false);
      const pieces = text.length > 3000 ? [text.slice(0, text.indexOf('\n', 1500) + 1), text.slice(text.indexOf('\n', 1500) + 1)] : [text];
      const got = await cache.build(pieces, NOW, names, null, new Map(), new Map());
      const want = uncached(text, 'tcp', null);
      expect(got.sockets).toEqual(want.sockets);
      expect([got.parse.badLines, got.parse.sample, got.parse.message]).toEqual([want.badLines, want.sample, want.message]);
    }
  });

  it('tcp6, with the same socket lines in another order', async () => {
    const cache = new InetTableCache('tcp6');
    const { header, lines } = split(tcp6Text);
    for (const order of [lines, [...lines].reverse(), lines]) {
      const text = join(header, renumber(order));
      const got = await cachedBuild(cache, text, null);
      expect(got.sockets).toEqual(uncached(text, 'tcp6', null).sockets);
    }
  });

  it('new name maps start over (no object of the old maps survives)', async () => {
    const cache = new InetTableCache('tcp');
    const text = tcpText.split('\n').slice(0, 50).join('\n') + '\n';
    const a = await cache.build(text, NOW, names, null, new Map(), new Map());
    const renamed: NameMaps = { users: new Map([[0, 'toor']]), services: names.services };
    const b = await cache.build(text, NOW, renamed, null, new Map(), new Map());
    expect(b.reused).toBe(0);
    expect((b.sockets[0] as InetSocket).user).toBe('toor');
    expect(a.sockets[0]).not.toBe(b.sockets[0]);
  });
});
