// `--once` writes TCP sockets from sock_diag records straight to JSON (collectOnce + once-json.ts).
// Its text must be JSON.stringify's of the snapshot with those records built as Socket objects the
// way every other collection builds them: on the live kernel with this test's own sockets and
// owners, and on dumps made to hold duplicates, bad messages and a family that fails.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { InetSocket, Snapshot, Socket } from '@netscope/shared';
import { Collector, INET_PROTOS } from '../../src/collect/collector.js';
import { toSockets, type DeferredSockets } from '../../src/collect/diag-records.js';
import { countUnowned } from '../../src/collect/sockets.js';
import { DiagReader, diagPath, type DiagOutcome } from '../../src/netlink/sock-diag.js';
import { NLMSG_DONE, type DiagFamily } from '../../src/netlink/inet-diag.js';
import { prerender, writeSnapshotJson } from '../../src/once-json.js';
import { ByteSink } from '../../src/write-text.js';
import { loopbackPair } from '../helpers/loopback.js';

const roots = { proc: '/proc', sys: '/sys', etc: '/etc' };

function written(snapshot: Snapshot, deferred: DeferredSockets | null, size = 1 << 20): string {
  const chunks: Buffer[] = [];
  const out = new ByteSink(1, size, {
    write: (_fd, buf, off, len) => {
      chunks.push(Buffer.from(buf.subarray(off, off + len)));
      return len;
    },
  });
  writeSnapshotJson(out, snapshot, deferred);
  out.flush();
  return Buffer.concat(chunks).toString('utf8');
}

const reference = (snapshot: Snapshot, deferred: DeferredSockets): string =>
  JSON.stringify({ ...snapshot, sockets: toSockets(snapshot.sockets, deferred) });

/** Where `proto`'s sockets come in the snapshot's order: tcp, tcp6, udp … raw6, then unix. */
const protoRank = (s: Socket): number => (s.proto === 'unix' ? INET_PROTOS.length : INET_PROTOS.indexOf(s.proto));

/** The fd the kernel gave a node socket or server. */
const fdOf = (x: net.Socket | net.Server): number => (x as unknown as { _handle: { fd: number } })._handle.fd;

describe('collectOnce + writeSnapshotJson on the live kernel', () => {
  it('writes JSON.stringify of the snapshot with the records built, and finds this process as the owner of its sockets', async () => {
    const pair = await loopbackPair();
    let server6: net.Server | null = null;
    let client6: net.Socket | null = null;
    try {
      // IPv6 as well where the machine has ::1: a two-family dump mixes them, tcp6 must come after tcp
      try {
        server6 = net.createServer().listen(0, '::1');
        await once(server6, 'listening');
        client6 = net.connect((server6.address() as net.AddressInfo).port, '::1');
        await once(client6, 'connect');
      } catch {
        server6?.close();
        server6 = null;
        client6 = null;
      }
      const collector = new Collector({ roots, intervalMs: 1000, owners: true, live: true, reuse: false });
      expect(collector.tcpSource).toBe('netlink');
      // as --once runs it: prefixes written ahead, before the owners are known
      let ownersAhead: unknown = 'not called';
      const { snapshot, deferred } = await collector.collectOnce((d) => {
        ownersAhead = d.owners;
        prerender(d);
      });
      expect(ownersAhead).toBeNull();
      expect(deferred.segments.length).toBeGreaterThan(0);
      expect(deferred.segments.every((seg) => seg.list.prefixes !== null)).toBe(true);
      expect(deferred.owners).not.toBeNull();
      const text = written(snapshot, deferred);
      expect(text).toBe(reference(snapshot, deferred));
      // and through a small buffer that flushes every few sockets
      expect(written(snapshot, deferred, 700)).toBe(text);
      // and without the prefixes: each record written whole
      for (const seg of deferred.segments) seg.list.prefixes = null;
      expect(written(snapshot, deferred)).toBe(text);
      expect(written(snapshot, deferred, 700)).toBe(text);

      const parsed = JSON.parse(text) as Snapshot;
      const all = parsed.sockets;
      expect(all.length).toBe(snapshot.sockets.length + deferred.segments.reduce((n, seg) => n + seg.list.length, 0));
      for (let i = 1; i < all.length; i++) expect(protoRank(all[i]!)).toBeGreaterThanOrEqual(protoRank(all[i - 1]!));
      expect(parsed.ownership.socketsUnowned).toBe(countUnowned(all));
      expect(parsed.sources.tcp).toMatchObject({ state: 'ok', path: expect.stringMatching(/^netlink sock_diag/) });

      const inet = all.filter((s): s is InetSocket => s.proto !== 'unix');
      const { port, client, accepted, server } = pair;
      const find = (pred: (s: InetSocket) => boolean) => {
        const found = inet.filter(pred);
        expect(found.length).toBe(1);
        return found[0]!;
      };
      const listener = find((s) => s.proto === 'tcp' && s.state === 'LISTEN' && s.localAddress === '127.0.0.1' && s.localPort === port);
      const clientEnd = find((s) => s.proto === 'tcp' && s.localPort === client.localPort && s.remotePort === port);
      const serverEnd = find((s) => s.proto === 'tcp' && s.localPort === port && s.remotePort === client.localPort);
      expect([listener, clientEnd, serverEnd].map((s) => [s.pid, s.fd])).toEqual([
        [process.pid, fdOf(server)],
        [process.pid, fdOf(client)],
        [process.pid, fdOf(accepted)],
      ]);
      expect(clientEnd.state).toBe('ESTABLISHED');
      expect(clientEnd.id).toBe(`tcp 127.0.0.1:${client.localPort} 127.0.0.1:${port} #${clientEnd.inode}`);
      if (client6 !== null) {
        const end6 = find((s) => s.proto === 'tcp6' && s.localPort === client6!.localPort);
        expect([end6.family, end6.localAddress, end6.pid, end6.fd]).toEqual([6, '::1', process.pid, fdOf(client6)]);
      }
    } finally {
      pair.close();
      client6?.destroy();
      server6?.close();
    }
  });
});

describe('collectOnce on dumps made for the test', () => {
  const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/netlink/${name}`, import.meta.url)));

  /** A dump's messages but its NLMSG_DONE. */
  function messages(dump: Uint8Array): Uint8Array[] {
    const view = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
    const out: Uint8Array[] = [];
    for (let off = 0; off + 16 <= dump.length; ) {
      const len = view.getUint32(off, true);
      if (view.getUint16(off + 4, true) !== NLMSG_DONE) out.push(dump.slice(off, off + ((len + 3) & ~3)));
      off += (len + 3) & ~3;
    }
    return out;
  }
  const done = (): Uint8Array => {
    const m = new Uint8Array(20);
    const v = new DataView(m.buffer);
    v.setUint32(0, 20, true);
    v.setUint16(4, NLMSG_DONE, true);
    return m;
  };
  const v4 = messages(fixture('loopback.tcp.bin'));
  const v6 = messages(fixture('loopback.tcp6.bin'));
  /** An AF_INET record claiming AF_UNIX: a bad message, counted and skipped. */
  const bad = v4[0]!.slice();
  bad[16] = 1;
  const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

  /**
   * Both families in one dump, in two batches, with two records listed twice and one bad message;
   * or per-family dumps, tcp6's failing or not.
   */
  class Canned extends DiagReader {
    constructor(
      private readonly twoFamily: boolean,
      private readonly tcp6Fails = true,
    ) {
      super();
    }
    override available(): string | null {
      return null;
    }
    override bothAvailable(): string | null {
      return this.twoFamily ? null : 'the kernel refused the two-family sock_diag dump: errno 22';
    }
    override dump(family: DiagFamily): DiagOutcome {
      const path = diagPath(family);
      if (family === 6 && this.tcp6Fails) return { ok: false, path, message: 'socket(AF_NETLINK, NETLINK_SOCK_DIAG): errno 97' };
      if (family === 6) return { ok: true, path, batches: [concat([...v6, v6[1]!, done()])] };
      const first = family === 'both' ? [v4[0]!, v6[0]!, ...v4.slice(1, 4), bad] : v4.slice(0, 4);
      const second = family === 'both' ? [...v4.slice(4), v4[1]!, ...v6.slice(1), v6[0]!, done()] : [...v4.slice(4), v4[2]!, done()];
      return { ok: true, path, batches: [concat(first), concat(second)] };
    }
  }

  it.each([
    ['one two-family dump', true, true],
    ['per-family dumps, tcp6 falling back to /proc', false, true],
    ['per-family dumps, both deferred', false, false],
  ])('%s: the same sockets and source statuses as a collection that builds them', async (_name, twoFamily, tcp6Fails) => {
    const reader = () => new Canned(twoFamily, tcp6Fails);
    // a two-family dump never asks for a tcp6 dump of its own
    const tcp6Deferred = twoFamily || !tcp6Fails;
    const once = await new Collector({ roots, intervalMs: 1000, owners: false, live: true, reuse: false, diag: reader() }).collectOnce();
    const built = await new Collector({ roots, intervalMs: 1000, owners: false, live: true, reuse: false, diag: reader() }).collect();
    const text = written(once.snapshot, once.deferred);
    expect(text).toBe(reference(once.snapshot, once.deferred));
    prerender(once.deferred);
    expect(written(once.snapshot, once.deferred, 300)).toBe(text);
    const parsed = JSON.parse(text) as Snapshot;
    // the records differ from the built collection's only where the clock does: a running timer's expiry
    const fromDump = (x: Snapshot) =>
      x.sockets
        .filter((s): s is InetSocket => s.proto === 'tcp' || (tcp6Deferred && s.proto === 'tcp6'))
        .map((s) => ({ ...s, timer: { ...s.timer, expiresAt: s.timer.expiresAt === null ? null : 'set' } }));
    expect(fromDump(parsed)).toEqual(fromDump(built));
    expect(fromDump(parsed).length).toBe(tcp6Deferred ? v4.length + v6.length : v4.length);
    expect(once.deferred.segments.map((seg) => seg.list.proto)).toEqual(tcp6Deferred ? ['tcp', 'tcp6'] : ['tcp']);
    const status = (x: Snapshot, proto: 'tcp' | 'tcp6') => {
      const { ms: _ms, ...rest } = x.sources[proto]!;
      return rest;
    };
    for (const proto of ['tcp', 'tcp6'] as const) expect(status(parsed, proto)).toEqual(status(built, proto));
    expect(parsed.sources.tcp?.message).toMatch(twoFamily ? /1 malformed line\(s\) skipped; 1 duplicate line/ : /^1 duplicate line/);
    if (tcp6Deferred) expect(parsed.sources.tcp6?.message).toMatch(/^1 duplicate line/);
    else expect(parsed.sources.tcp6?.message).toMatch(/sock_diag failed .*errno 97.*read \/proc\/net\/tcp6 instead/);
    expect(parsed.ownership.socketsUnowned).toBe(countUnowned(parsed.sockets));
  });
});
