/**
 * The sock_diag parser: the kernel's own dump (captured with test/fixtures/capture-netlink.mjs)
 * against /proc/net/tcp{,6} read at the same moment, hostile batches, and random bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DIAG_MSG_LEN,
  NLMSG_DONE,
  NLMSG_ERROR,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  inetDiagBothRequest,
  inetDiagRequest,
  parseInetDiag,
  walkInetDiag,
} from '../../src/netlink/inet-diag.js';
import { parseInetSockets, type RawInetSocket } from '../../src/procfs/inet.js';

const FIXTURES = new URL('../fixtures/netlink/', import.meta.url);
const bin = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

/** A netlink message of `type` with `payload`, padded to 4 bytes. */
function message(type: number, payload: Uint8Array, len = 16 + payload.length): Uint8Array {
  const out = new Uint8Array((16 + payload.length + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  out.set(payload, 16);
  return out;
}

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

/** One inet_diag_msg: 127.0.0.1:sport → 127.0.0.1:dport, ESTABLISHED unless told. */
function diagMsg(o: { family?: number; state?: number; sport?: number; dport?: number; inode?: number; timer?: number; retrans?: number; wq?: number } = {}): Uint8Array {
  const p = new Uint8Array(72);
  const v = new DataView(p.buffer);
  p[0] = o.family ?? 2;
  p[1] = o.state ?? 1;
  p[2] = o.timer ?? 0;
  p[3] = o.retrans ?? 0;
  v.setUint16(4, o.sport ?? 8080, false);
  v.setUint16(6, o.dport ?? 40000, false);
  p.set([127, 0, 0, 1], 8);
  p.set([127, 0, 0, 1], 24);
  v.setUint32(52, 5000, true); // expires
  v.setUint32(60, o.wq ?? 0, true);
  v.setUint32(68, o.inode ?? 1234, true);
  return message(SOCK_DIAG_BY_FAMILY, p);
}

const done = (status = 0): Uint8Array => message(NLMSG_DONE, int32(status));
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

function byKey(records: RawInetSocket[]): Map<string, RawInetSocket> {
  return new Map(records.map((r) => [`${r.localAddress}:${r.localPort}>${r.remoteAddress}:${r.remotePort}#${r.inode}`, r]));
}

describe('the captured dump equals /proc/net/tcp{,6} read at the same moment', () => {
  for (const proto of ['tcp', 'tcp6'] as const) {
    it(proto, () => {
      const dump = parseInetDiag([bin(`loopback.${proto}.bin`)], proto);
      expect(dump.done).toBe(true);
      expect(dump.errno).toBeNull();
      expect(dump.bad).toBe(0);
      const proc = parseInetSockets(readFileSync(new URL(`loopback.proc-${proto}`, FIXTURES), 'utf8'), proto, { byteOrder: 'le' });
      expect(proc.badLines).toBe(0);
      expect(dump.records.length).toBe(proc.records.length);
      expect(dump.records.length).toBeGreaterThanOrEqual(7);
      const fromProc = byKey(proc.records);
      for (const [key, r] of byKey(dump.records)) {
        const p = fromProc.get(key);
        expect(p, key).toBeDefined();
        // expires: ms at dump time vs 10 ms clock ticks a moment later
        expect(Math.abs(r.timerRemainingMs - p!.timerRemainingMs)).toBeLessThan(1000);
        expect({ ...r, timerRemainingMs: 0 }).toEqual({ ...p!, timerRemainingMs: 0 });
      }
      const states = new Set(dump.records.map((r) => r.state));
      expect(states.has('LISTEN')).toBe(true);
      expect(states.has('ESTABLISHED')).toBe(true);
      if (proto === 'tcp') expect(states.has('TIME_WAIT')).toBe(true);
      else expect(dump.records.some((r) => r.localAddress.startsWith('::ffff:127.0.0.1'))).toBe(true);
    });
  }
});

/** The messages of a captured dump but its NLMSG_DONE, retyped as a two-family dump's replies. */
function recordsOf(dump: Uint8Array, type = TCPDIAG_GETSOCK): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = new DataView(dump.buffer, dump.byteOffset, dump.length);
  for (let off = 0; off + 16 <= dump.length; ) {
    const len = v.getUint32(off, true);
    if (v.getUint16(off + 4, true) === SOCK_DIAG_BY_FAMILY) {
      const m = dump.slice(off, off + ((len + 3) & ~3));
      new DataView(m.buffer).setUint16(4, type, true);
      out.push(m);
    }
    off += (len + 3) & ~3;
  }
  return out;
}

describe('a two-family dump (TCPDIAG_GETSOCK)', () => {
  it('reads AF_INET records as tcp and AF_INET6 ones as tcp6, in dump order', () => {
    const v4 = recordsOf(bin('loopback.tcp.bin'));
    const v6 = recordsOf(bin('loopback.tcp6.bin'));
    expect(v4.length).toBeGreaterThanOrEqual(7);
    expect(v6.length).toBeGreaterThanOrEqual(1);
    // the kernel interleaves the families by hash bucket
    const mixed = v4.flatMap((m, i) => (i < v6.length ? [m, v6[i]!] : [m])).concat(v6.slice(v4.length));
    const both = parseInetDiag([cat(...mixed, done())], 'both');
    expect([both.done, both.bad, both.errno]).toEqual([true, 0, null]);
    expect(both.records.length).toBe(v4.length + v6.length);
    const tcp = parseInetDiag([bin('loopback.tcp.bin')], 'tcp').records;
    const tcp6 = parseInetDiag([bin('loopback.tcp6.bin')], 'tcp6').records;
    expect(both.records.filter((r) => r.proto === 'tcp')).toEqual(tcp);
    expect(both.records.filter((r) => r.proto === 'tcp6')).toEqual(tcp6);
    expect(both.records.filter((r) => r.proto === 'tcp6').every((r) => r.family === 6)).toBe(true);
  });

  it('a record of neither family is counted, not read; a one-family dump still rejects the other family', () => {
    const odd = recordsOf(cat(diagMsg({ family: 7 })))[0]!;
    const r = parseInetDiag([cat(odd, ...recordsOf(cat(diagMsg(), diagMsg({ family: 10 }))), done())], 'both');
    expect([r.bad, r.records.map((x) => x.proto)]).toEqual([1, ['tcp', 'tcp6']]);
    expect(r.sample).toMatch(/family 7 in an AF_INET\/AF_INET6 dump/);
    const one = parseInetDiag([cat(...recordsOf(cat(diagMsg(), diagMsg({ family: 10 }))), done())], 'tcp');
    expect([one.bad, one.records.length]).toEqual([1, 1]);
  });

  it('the request: TCPDIAG_GETSOCK with struct inet_diag_req, every state', () => {
    const req = inetDiagBothRequest(9);
    const v = new DataView(req.buffer);
    expect(req.length).toBe(76);
    expect(v.getUint32(0, true)).toBe(76);
    expect(v.getUint16(4, true)).toBe(TCPDIAG_GETSOCK);
    expect(v.getUint16(6, true)).toBe(0x301);
    expect(v.getUint32(8, true)).toBe(9);
    expect(v.getUint32(68, true)).toBe(0xffffdfff); // every state but TCP_BOUND_INACTIVE (13)
    expect(new DataView(inetDiagBothRequest(1, 0).buffer).getUint32(68, true)).toBe(0);
  });
});

describe('inetDiagRequest', () => {
  it('asks for every state of one family, TCP, no attributes', () => {
    const req = inetDiagRequest(6, 7);
    const v = new DataView(req.buffer);
    expect(req.length).toBe(72);
    expect(v.getUint32(0, true)).toBe(72);
    expect(v.getUint16(4, true)).toBe(SOCK_DIAG_BY_FAMILY);
    expect(v.getUint16(6, true)).toBe(0x301); // REQUEST | DUMP
    expect(v.getUint32(8, true)).toBe(7);
    expect([req[16], req[17], req[18]]).toEqual([10, 6, 0]);
    expect(v.getUint32(20, true)).toBe(0xffffdfff);
    expect(new DataView(inetDiagRequest(4, 1, 0).buffer).getUint32(20, true)).toBe(0);
  });
});

describe('hostile and unusual batches', () => {
  it('reads LISTEN send-Q as 0 (the backlog limit is not a queue) and splits retrans by timer', () => {
    const listen = parseInetDiag([cat(diagMsg({ state: 10, wq: 4096, dport: 0 }), done())], 'tcp').records[0]!;
    expect(listen.state).toBe('LISTEN');
    expect(listen.sendQ).toBe(0);
    const retrans = parseInetDiag([cat(diagMsg({ timer: 1, retrans: 3 }), done())], 'tcp').records[0]!;
    expect([retrans.timerKind, retrans.retransmits, retrans.probes, retrans.timerRemainingMs]).toEqual(['on', 3, 0, 5000]);
    const keepalive = parseInetDiag([cat(diagMsg({ timer: 2, retrans: 2 }), done())], 'tcp').records[0]!;
    expect([keepalive.timerKind, keepalive.retransmits, keepalive.probes]).toEqual(['keepalive', 0, 2]);
    const off = parseInetDiag([cat(diagMsg({ timer: 0 }), done())], 'tcp').records[0]!;
    expect([off.timerKind, off.timerRemainingMs]).toEqual(['off', 0]);
    const odd = parseInetDiag([cat(diagMsg({ state: 99, timer: 9 }), done())], 'tcp').records[0]!;
    expect([odd.state, odd.timerKind]).toEqual(['UNKNOWN', 'unknown']);
  });

  it('a dump without NLMSG_DONE is not complete', () => {
    const r = parseInetDiag([diagMsg()], 'tcp');
    expect([r.records.length, r.done]).toEqual([1, false]);
    expect(parseInetDiag([], 'tcp').done).toBe(false);
    expect(parseInetDiag([new Uint8Array(0)], 'tcp').done).toBe(false);
  });

  it('records after NLMSG_DONE are not read; batches are read in order', () => {
    const r = parseInetDiag([diagMsg({ inode: 1 }), cat(diagMsg({ inode: 2 }), done(), diagMsg({ inode: 3 }))], 'tcp');
    expect(r.records.map((x) => x.inode)).toEqual([1, 2]);
    expect(r.done).toBe(true);
  });

  it('kernel errors: NLMSG_ERROR and a negative NLMSG_DONE status give the errno; an ACK is not an error', () => {
    const err = parseInetDiag([message(NLMSG_ERROR, cat(int32(-1), new Uint8Array(16)))], 'tcp');
    expect([err.done, err.errno]).toEqual([true, 1]);
    const doneErr = parseInetDiag([cat(diagMsg(), done(-16))], 'tcp');
    expect([doneErr.done, doneErr.errno, doneErr.records.length]).toEqual([true, 16, 1]);
    const ack = parseInetDiag([cat(message(NLMSG_ERROR, cat(int32(0), new Uint8Array(16))), diagMsg(), done())], 'tcp');
    expect([ack.errno, ack.records.length]).toEqual([null, 1]);
    const cut = parseInetDiag([message(NLMSG_ERROR, new Uint8Array(0))], 'tcp');
    expect([cut.done, cut.errno]).toEqual([true, 5]);
  });

  it('short, overlong and unframeable messages are counted, never read past the batch', () => {
    const short = message(SOCK_DIAG_BY_FAMILY, new Uint8Array(40));
    const r1 = parseInetDiag([cat(short, diagMsg(), done())], 'tcp');
    expect([r1.bad, r1.records.length, r1.done]).toEqual([1, 1, true]);
    expect(r1.sample).toContain(`length 56 < ${DIAG_MSG_LEN}`);

    const overlong = diagMsg();
    new DataView(overlong.buffer).setUint32(0, 4000, true);
    const r2 = parseInetDiag([cat(diagMsg({ inode: 7 }), overlong)], 'tcp');
    expect([r2.bad, r2.records.length, r2.done]).toEqual([1, 1, false]);
    expect(r2.sample).toMatch(/runs past the batch/);

    const tiny = diagMsg();
    new DataView(tiny.buffer).setUint32(0, 8, true);
    const r3 = parseInetDiag([tiny], 'tcp');
    expect(r3.bad).toBe(1);
    expect(r3.sample).toMatch(/length 8 < 16/);

    const r4 = parseInetDiag([cat(diagMsg(), new Uint8Array(6))], 'tcp');
    expect(r4.bad).toBe(1);
    expect(r4.sample).toMatch(/6 trailing byte/);
  });

  it('a record of the other family or an unknown message type is counted, not read', () => {
    const r = parseInetDiag([cat(diagMsg({ family: 10 }), message(77, new Uint8Array(8)), diagMsg(), done())], 'tcp');
    expect([r.bad, r.records.length]).toEqual([2, 1]);
    expect(r.sample).toMatch(/family 10 in an AF_INET dump/);
  });

  it('random bytes and mutated real dumps never throw and never read outside the batch', () => {
    const real = bin('loopback.tcp.bin');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat(real.length), fc.nat(255), (noise, at, byte) => {
        for (const batch of [noise, (() => { const m = real.slice(); m[at % m.length] = byte; return m; })(), cat(real.subarray(0, at), noise)]) {
          const r = parseInetDiag([batch], 'tcp');
          expect(r.records.length).toBeLessThanOrEqual(Math.floor(batch.length / DIAG_MSG_LEN));
          for (const x of r.records) expect(x.localPort).toBeLessThan(65536);
          walkInetDiag(batch, 6, () => {});
          parseInetDiag([batch], 'both');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
