// InetJson writes a socket's JSON from its raw record: it must give exactly the bytes of
// JSON.stringify(buildInetSocket(…)), on the kernel's own dumps and on every record fast-check makes.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TCP_STATE_BY_CODE, type InetProto, type TcpState } from '@netscope/shared';
import { InetJson } from '../../src/collect/inet-json.js';
import { buildInetSocket, type NameMaps, type OwnerLookup } from '../../src/collect/sockets.js';
import { parseInetDiag } from '../../src/netlink/inet-diag.js';
import { TIMER_KINDS, formatIpv6Groups, type RawInetSocket } from '../../src/procfs/inet.js';
import type { OwnerRef } from '../../src/procfs/owners.js';
import { InodeHolders, type HolderIndex } from '../../src/procfs/inode-holders.js';
import { ByteSink } from '../../src/write-text.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/netlink/${name}`, import.meta.url)));

/** What InetJson writes for `records`, one socket per entry, through a sink of `size` bytes. */
function written(records: readonly RawInetSocket[], now: number, names: NameMaps, owners: OwnerLookup | null, size = 1 << 16): string[] {
  const chunks: Uint8Array[] = [];
  const sink = new ByteSink(1, size, {
    write: (_fd, buf, off, len) => {
      chunks.push(buf.slice(off, off + len));
      return len;
    },
  });
  const json = new InetJson(now, names, owners);
  const out: string[] = [];
  for (const r of records) {
    json.write(sink, r);
    sink.flush();
    out.push(Buffer.concat(chunks.splice(0)).toString('utf8'));
  }
  return out;
}

const expected = (records: readonly RawInetSocket[], now: number, names: NameMaps, owners: OwnerLookup | null): string[] =>
  records.map((r) => JSON.stringify(buildInetSocket(r, now, names, owners, new Map())));

const NOW = 1_796_000_000_123;

describe('InetJson', () => {
  it('writes the captured loopback dumps as JSON.stringify writes their Socket objects, with and without owners', () => {
    for (const [name, proto] of [
      ['loopback.tcp.bin', 'tcp'],
      ['loopback.tcp6.bin', 'tcp6'],
    ] as const) {
      const { records, done } = parseInetDiag([fixture(name)], proto);
      expect(done).toBe(true);
      expect(records.length).toBeGreaterThan(3);
      if (proto === 'tcp') expect(records.some((r) => r.timerCode !== 0)).toBe(true); // TIME_WAIT: a running timer
      const names: NameMaps = { users: new Map([[0, 'root']]), services: new Map([['tcp/22', 'ssh']]) };
      expect(written(records, NOW, names, null)).toEqual(expected(records, NOW, names, null));
      // every socket held: one by one process, the next by two fds of one and a second process
      const byInode = new Map<number, OwnerRef[]>();
      records.forEach((r, i) => {
        if (r.inode !== 0) byInode.set(r.inode, i % 2 === 0 ? [{ pid: 40 + i, fd: 3 }] : [{ pid: 7, fd: 4 }, { pid: 7, fd: 9 }, { pid: 5, fd: 1 }]);
      });
      const owners: OwnerLookup = { byInode, programOf: (pid) => (pid === 7 ? 'dämon "x"' : pid === 5 ? null : `p${pid}`) };
      const got = written(records, NOW, names, owners);
      expect(got).toEqual(expected(records, NOW, names, owners));
      expect(got.some((t) => t.includes('"otherPids":[5]'))).toBe(true);
    }
  });

  it('equals JSON.stringify for any record, names and owners (fast-check), through a small sink that flushes and grows', () => {
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }));
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
    const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => formatIpv6Groups(g));
    const address = fc.oneof({ weight: 3, arbitrary: v4 }, { weight: 3, arbitrary: v6 }, { weight: 1, arbitrary: text });
    const u32 = fc.nat({ max: 0xffffffff });
    const number = fc.oneof({ weight: 6, arbitrary: u32 }, { weight: 1, arbitrary: fc.double() }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) });
    const protos: InetProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];
    const record: fc.Arbitrary<RawInetSocket> = fc
      .record({
        proto: fc.constantFrom(...protos),
        localAddress: address,
        localPort: fc.oneof(fc.constant(0), fc.nat(65535)),
        remoteAddress: address,
        remotePort: fc.oneof(fc.constant(0), fc.nat(65535)),
        stateCode: fc.nat(15),
        sendQ: number,
        recvQ: number,
        timerCode: fc.nat(5),
        timerRemainingMs: u32,
        retransmits: fc.oneof(fc.constant(0), fc.nat(255)),
        probes: fc.oneof(fc.constant(0), fc.nat(255)),
        uid: fc.nat(70000),
        inode: fc.oneof(fc.constant(0), u32, fc.nat({ max: Number.MAX_SAFE_INTEGER })),
      })
      .map((r) => ({
        ...r,
        family: r.proto.endsWith('6') ? 6 : 4,
        state: (TCP_STATE_BY_CODE[r.stateCode] ?? 'UNKNOWN') as TcpState,
        timerKind: TIMER_KINDS[r.timerCode] ?? 'unknown',
      }));
    const holders = fc.array(fc.record({ pid: fc.integer({ min: 1, max: 12 }), fd: fc.nat(40) }), { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(70000), text), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(65535), text), { maxLength: 4 }),
        fc.option(fc.array(holders, { minLength: 12, maxLength: 12 })),
        fc.array(fc.option(text), { minLength: 13, maxLength: 13 }),
        fc.integer({ min: 64, max: 2048 }),
        fc.boolean(),
        (records, users, ports, holderLists, programs, sinkSize, indexed) => {
          const names: NameMaps = {
            users: new Map([[0, 'root'], ...users]),
            services: new Map([...ports.map(([port, name]) => [`tcp/${port}`, name] as [string, string]), ['udp/53', 'domain']]),
          };
          // records' inodes hold the generated holder lists in turn (an empty list: no owner)
          let owners: OwnerLookup | null = null;
          // as a Map (a running agent's owner cache) or an InodeHolders index (a one-shot's FdWalker.lookup)
          if (holderLists !== null) {
            const byInode = new Map<number, OwnerRef[]>();
            records.forEach((r, i) => {
              if (r.inode !== 0) byInode.set(r.inode, holderLists[i]!);
            });
            let index: HolderIndex = byInode;
            if (indexed) {
              const holders = new InodeHolders(48);
              for (const [inode, list] of byInode) for (const h of list) holders.add(inode, h.pid, h.fd);
              index = holders;
            }
            owners = { byInode: index, programOf: (pid) => programs[pid] ?? null };
          }
          const now = NOW + records.length;
          expect(written(records, now, names, owners, sinkSize)).toEqual(expected(records, now, names, owners));
        },
      ),
      { numRuns: 400 },
    );
  });
});
