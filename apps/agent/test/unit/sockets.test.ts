// buildInetSocket's id text and timer, on the captured fixture: the id is part of the stream (the
// web app keys rows by it), so its text is pinned here whatever builds it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildInetSocket, inetSocketId, type NameMaps } from '../../src/collect/sockets.js';
import { parseInetSockets, type RawInetSocket } from '../../src/procfs/inet.js';

const FIXTURE = new URL('../fixtures/proc/live-loopback/net/', import.meta.url);
const names: NameMaps = { users: new Map([[0, 'root']]), services: new Map() };
const NOW = 1_700_000_000_000;

function records(file: 'tcp' | 'tcp6'): RawInetSocket[] {
  return parseInetSockets(readFileSync(new URL(file, FIXTURE), 'utf8'), file).records;
}

describe('inetSocketId', () => {
  it('is proto, local, remote and inode, for every fixture socket', () => {
    for (const r of [...records('tcp'), ...records('tcp6')]) {
      expect(inetSocketId(r)).toBe(`${r.proto} ${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort}${r.inode === 0 ? '' : ` #${r.inode}`}`);
    }
  });

  it('leaves the inode out when the kernel gives none (TIME_WAIT)', () => {
    const r = { ...records('tcp')[0]!, inode: 0 };
    expect(inetSocketId(r)).toBe(`tcp ${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort}`);
    expect(inetSocketId({ ...r, proto: 'udp6', localAddress: '::1', localPort: 53, remoteAddress: '::', remotePort: 0 })).toBe('udp6 ::1:53 :::0');
  });
});

describe('buildInetSocket timer', () => {
  const all = [...records('tcp'), ...records('tcp6')];
  const built = all.map((r) => buildInetSocket(r, NOW, names, null, new Map()));

  it('has sockets with and without a running timer in the fixture', () => {
    expect(built.some((s) => s.timer.code === 0)).toBe(true);
    expect(built.some((s) => s.timer.code !== 0)).toBe(true);
  });

  it('gives each socket the timer the kernel reported', () => {
    all.forEach((r, i) => {
      const t = built[i]!.timer;
      expect({ kind: t.kind, code: t.code, retransmits: t.retransmits, probes: t.probes }).toEqual({
        kind: r.timerKind,
        code: r.timerCode,
        retransmits: r.retransmits,
        probes: r.probes,
      });
      expect(t.expiresAt).toBe(r.timerCode === 0 ? null : NOW + r.timerRemainingMs);
    });
  });

  it('shares one frozen timer among sockets whose timer is off, and no running one', () => {
    const off = built.filter((s) => s.timer.code === 0);
    for (const s of off) expect(s.timer).toBe(off[0]!.timer);
    expect(Object.isFrozen(off[0]!.timer)).toBe(true);
    const on = built.filter((s) => s.timer.code !== 0).map((s) => s.timer);
    expect(new Set(on).size).toBe(on.length);
  });
});
