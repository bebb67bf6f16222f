// The running collector skips a UDP, UDP-Lite or raw table that /proc/net/sockstat{,6} counts no
// socket in (collector.ts). On the live kernel: a socket bound in one of those tables is listed by
// the next tick, with its owner, and the same as a cold collection (which reads every table) lists
// it; once it is closed, it is gone; a table reported as not read was counted empty.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { InetSocket, Snapshot } from '@netscope/shared';
import { Collector } from '../../src/collect/collector.js';
import { parseSockstat, sockStatOf } from '../../src/procfs/sockstat.js';

const roots = { proc: '/proc', sys: '/sys', etc: '/etc' };
const warm = new Collector({ roots, intervalMs: 1000, owners: true, live: true });
const held: dgram.Socket[] = [];

async function bind(type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  held.push(s);
  s.bind(0, host);
  await once(s, 'listening');
  return s;
}

const find = (snap: Snapshot, proto: string, host: string, port: number) =>
  snap.sockets.find((s): s is InetSocket => s.proto === proto && (s as InetSocket).localAddress === host && (s as InetSocket).localPort === port);

afterAll(() => {
  for (const s of held) s.close();
});

describe('tables sockstat counts empty are not read, on the live kernel', () => {
  it('a UDP socket bound on 127.0.0.1 and one on ::1 are listed by the next tick, and gone after they close', async () => {
    await warm.collect(); // a tick before: the counts may say none
    const s4 = await bind('udp4', '127.0.0.1');
    const s6 = await bind('udp6', '::1');
    const p4 = s4.address().port;
    const p6 = s6.address().port;
    const snap = await warm.collect();
    const cold = await new Collector({ roots, intervalMs: 1000, owners: true, live: true, reuse: false }).collect();
    for (const [proto, host, port] of [['udp', '127.0.0.1', p4], ['udp6', '::1', p6]] as const) {
      const mine = find(snap, proto, host, port);
      expect(mine, `${proto} ${host}:${port}`).toBeDefined();
      expect(mine!.pid).toBe(process.pid);
      expect(snap.sources[proto]?.state).toBe('ok');
      expect(snap.sources[proto]?.message ?? '').not.toMatch(/not read/);
      const c = find(cold, proto, host, port)!;
      expect({ ...mine!, timer: null }).toEqual({ ...c, timer: null });
    }

    s4.close();
    s6.close();
    held.length = 0;
    const after = await warm.collect();
    expect(find(after, 'udp', '127.0.0.1', p4)).toBeUndefined();
    expect(find(after, 'udp6', '::1', p6)).toBeUndefined();
  });

  it('a table reported as not read lists nothing in the cold collection, and sockstat counted it empty then', async () => {
    const snap = await warm.collect();
    const skipped = (['udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'] as const).filter((p) => /^not read: /.test(snap.sources[p]?.message ?? ''));
    for (const proto of skipped) {
      expect(snap.sources[proto]!.message).toMatch(proto.endsWith('6') ? /\/proc\/net\/sockstat6 counts no (UDP6|UDPLITE6|RAW6) socket$/ : /\/proc\/net\/sockstat counts no (UDP|UDPLITE|RAW) socket$/);
      expect(snap.sockets.some((s) => s.proto === proto)).toBe(false);
    }
    // The machine decides which tables are empty. Where sockstat counts a table empty now, the
    // running collector does not read it; where it counts sockets, it does (nothing else opens
    // or closes UDP-Lite and raw sockets here, so those counts hold between the two reads).
    const now = sockStatOf([...parseSockstat(readFileSync('/proc/net/sockstat', 'utf8')).records, ...parseSockstat(readFileSync('/proc/net/sockstat6', 'utf8')).records]);
    for (const [proto, group] of [['udplite', 'UDPLITE'], ['udplite6', 'UDPLITE6'], ['raw', 'RAW'], ['raw6', 'RAW6']] as const) {
      if (now[group]?.inuse === undefined) continue;
      expect(skipped.includes(proto), `${proto}: sockstat ${group} inuse ${now[group]!.inuse}`).toBe(now[group]!.inuse === 0);
    }
  });
});
