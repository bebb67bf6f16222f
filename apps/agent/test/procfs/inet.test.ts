/**
 * /proc/net/{tcp,tcp6,udp,…} parser: inline tables of good and hostile lines, the captured
 * live-loopback fixture, property tests, and the real kernel (sockets opened here, compared with ss).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TCP_STATE_BY_CODE, parseIp, type InetProto, type TcpState } from '@netscope/shared';
import {
  HOST_BYTE_ORDER,
  decodeHexAddress,
  formatIpv6Groups,
  parseInetSockets,
  type ByteOrder,
  type RawInetSocket,
} from '../../src/procfs/inet.js';

const RUNS = 1000;
const LE = { byteOrder: 'le' } as const;

const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UDP_HEADER4 =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ';

/** Real lines from this machine's /proc/net (kernel 6.18, x86_64). */
const REAL = {
  tcpListen:
    '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1681 1 000000006ad83488 100 0 0 10 0                      ',
  tcpTimeWait:
    '   1: 0100007F:A806 0100007F:B0AD 06 00000000:00000000 03:00000686 00000000     0        0 0 3 00000000a2a8c0b4                                      ',
  tcp6Loopback:
    '   0: 00000000000000000000000001000000:9EFB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 102990 1 00000000ebd8ab0d 100 0 0 10 0',
  tcp6Mapped:
    '   3: 0000000000000000FFFF00000100007F:8173 0000000000000000FFFF00000100007F:E7EC 01 00000000:00000000 00:00000000 00000000     0        0 102995 1 000000003fa2450c 20 0 0 10 -1',
  udpConnected:
    ' 3553: 0100007F:8D6C 0100007F:ADB1 01 00000000:00000000 00:00000000 00000000     0        0 103122 2 00000000c1700a52 0        ',
  raw6Icmp:
    '  119: 00000000000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 103018 2 0000000005f8c69c 0',
};

/* ---------- a kernel-style line formatter for tests (independent of the parser) ---------- */

interface LineSpec {
  slot?: number;
  local: Uint8Array | number[];
  localPort: number;
  remote: Uint8Array | number[];
  remotePort: number;
  st: number;
  tx?: number;
  rx?: number;
  tr?: number;
  when?: number;
  retr?: number;
  uid?: number;
  timeout?: number;
  inode?: number;
  tail?: string;
}

const HEX = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** Address bytes (network order) as the kernel prints them: 32-bit words in the given byte order. */
function kernelHex(bytes: ArrayLike<number>, order: ByteOrder = 'le'): string {
  let out = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const word = [bytes[w] ?? 0, bytes[w + 1] ?? 0, bytes[w + 2] ?? 0, bytes[w + 3] ?? 0];
    if (order === 'le') word.reverse();
    out += word.map((b) => HEX(b, 2)).join('');
  }
  return out;
}

/** `%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu` + tail. */
function kline(s: LineSpec, order: ByteOrder = 'le'): string {
  return (
    `${String(s.slot ?? 0).padStart(4)}: ${kernelHex(s.local, order)}:${HEX(s.localPort, 4)} ` +
    `${kernelHex(s.remote, order)}:${HEX(s.remotePort, 4)} ${HEX(s.st, 2)} ` +
    `${HEX(s.tx ?? 0, 8)}:${HEX(s.rx ?? 0, 8)} ${HEX(s.tr ?? 0, 2)}:${HEX(s.when ?? 0, 8)} ${HEX(s.retr ?? 0, 8)} ` +
    `${String(s.uid ?? 0).padStart(5)} ${String(s.timeout ?? 0).padStart(8)} ${s.inode ?? 0}${s.tail ?? ' 1 0000000000000000 100 0 0 10 0'}`
  );
}

const LO4 = [127, 0, 0, 1];
const ANY4 = [0, 0, 0, 0];
const LO6 = [...new Array<number>(15).fill(0), 1];

const file = (header: string, ...lines: string[]): string => [header, ...lines].join('\n') + '\n';
const one = (line: string, proto: InetProto = 'tcp'): ReturnType<typeof parseInetSockets> =>
  parseInetSockets(file(proto.endsWith('6') ? HEADER6 : HEADER4, line), proto, LE);

/* ======================================================================================== */

describe('decodeHexAddress', () => {
  it.each([
    ['0100007F', 4, 'le', '127.0.0.1'],
    ['0100007f', 4, 'le', '127.0.0.1'],
    ['00000000', 4, 'le', '0.0.0.0'],
    ['FFFFFFFF', 4, 'le', '255.255.255.255'],
    ['0A03C87F', 4, 'le', '127.200.3.10'],
    ['7F000001', 4, 'be', '127.0.0.1'],
    ['00000000000000000000000001000000', 6, 'le', '::1'],
    ['00000000000000000000000000000000', 6, 'le', '::'],
    ['000080FE000000000000000001000000', 6, 'le', 'fe80::1'],
    ['B80D0120000000000000000000000000', 6, 'le', '2001:db8::'],
    ['0000000000000000FFFF00000100007F', 6, 'le', '::ffff:127.0.0.1'],
    ['0000000000000000FFFF000000000000', 6, 'le', '::ffff:0.0.0.0'],
    ['00000000000000000000000001000000', 6, 'be', '::100:0'],
    ['00000000000000000000000000000001', 6, 'be', '::1'],
    ['FE800000000000000000000000000001', 6, 'be', 'fe80::1'],
  ] as const)('%s (IPv%s, %s) → %s', (hex, family, order, text) => {
    expect(decodeHexAddress(hex, family, order)).toBe(text);
  });

  it.each([
    ['0100007', 4],
    ['0100007F0', 4],
    ['0100007Z', 4],
    ['', 4],
    ['0100007F', 6],
    ['0000000000000000000000000100000', 6],
    ['00000000000000000000000001000000', 4],
    ['0000000000000000000000000100000G', 6],
    ['0000000000000000 000000001000000', 6],
  ] as const)('%j is not an IPv%s address', (hex, family) => {
    expect(decodeHexAddress(hex, family, 'le')).toBeNull();
  });
});

describe('formatIpv6Groups (RFC 5952)', () => {
  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[1, 0, 0, 1, 0, 0, 1, 1], '1::1:0:0:1:1'], // tie: the leftmost run
    [[1, 0, 1, 1, 1, 1, 1, 1], '1:0:1:1:1:1:1:1'], // a single zero group is not compressed
    [[1, 1, 1, 1, 1, 1, 1, 0], '1:1:1:1:1:1:1:0'],
    [[0, 1, 1, 1, 1, 1, 1, 1], '0:1:1:1:1:1:1:1'],
    [[1, 0, 0, 1, 0, 0, 0, 1], '1:0:0:1::1'], // the longest run, not the first
    [[1, 1, 1, 1, 1, 1, 0, 0], '1:1:1:1:1:1::'],
    [[0xabcd, 0xef, 0, 0, 0, 0, 0xa, 0], 'abcd:ef::a:0'],
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], '::ffff:127.0.0.1'], // v4-mapped: dotted, as ss prints it
    [[0, 0, 0, 0, 0, 0, 0x7f00, 1], '::7f00:1'], // deprecated v4-compatible: not dotted
    [[0, 0, 0, 0, 0xffff, 0, 0x7f00, 1], '::ffff:0:7f00:1'], // not v4-mapped
    [[0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x221], '64:ff9b::c000:221'],
  ])('%j → %s', (groups, text) => {
    expect(formatIpv6Groups(groups)).toBe(text);
  });
});

/** python3's ipaddress, with v4-mapped tails dotted as RFC 5952 §5 and ss do; null without python3. */
function pythonCanonical(addresses: Uint8Array[]): string[] | null {
  const script = [
    'import ipaddress, json, sys',
    'out = []',
    'for h in json.load(sys.stdin):',
    '    a = ipaddress.IPv6Address(bytes.fromhex(h))',
    "    out.append('::ffff:' + str(a.ipv4_mapped) if a.ipv4_mapped else str(a))",
    'print(json.dumps(out))',
  ].join('\n');
  const input = JSON.stringify(addresses.map((b) => Buffer.from(b).toString('hex')));
  try {
    return JSON.parse(execFileSync('python3', ['-c', script], { input, encoding: 'utf8', timeout: 20_000 })) as string[];
  } catch {
    return null;
  }
}

/** Address bytes where zero groups are common, so runs, ties and lone zeros all occur. */
const ipv6Bytes = fc
  .tuple(
    fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 0xffff })), { minLength: 8, maxLength: 8 }),
    fc.boolean(),
    fc.integer({ min: 0, max: 0xffffffff }),
  )
  .map(([groups, mapped, v4]) => {
    const g = mapped ? [0, 0, 0, 0, 0, 0xffff, v4 >>> 16, v4 & 0xffff] : groups;
    const b = new Uint8Array(16);
    g.forEach((x, i) => {
      b[i * 2] = x >> 8;
      b[i * 2 + 1] = x & 0xff;
    });
    return b;
  });

describe('IPv6 text against independent formatters', () => {
  const samples = fc.sample(ipv6Bytes, { numRuns: 3000, seed: 5952 });
  const ours = samples.map((b) => decodeHexAddress(kernelHex(b, 'le'), 6, 'le'));
  const python = pythonCanonical(samples);

  it.skipIf(python === null)('matches python3 ipaddress on 3000 random addresses', () => {
    const mismatches = samples.flatMap((b, i) => (ours[i] === python![i] ? [] : [`${Buffer.from(b).toString('hex')}: ${ours[i]} vs ${python![i]}`]));
    expect(mismatches).toEqual([]);
  });

  it("matches the WHATWG URL serializer (Node's URL) except for dotted v4-mapped tails", () => {
    for (const [i, b] of samples.entries()) {
      const text = ours[i]!;
      const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      if (text.startsWith('::ffff:') && text.includes('.')) {
        expect(viaUrl.startsWith('::ffff:')).toBe(true); // URL prints the tail in hex
      } else {
        expect(viaUrl).toBe(text);
      }
      expect(Array.from(parseIp(text)!)).toEqual(Array.from(b));
    }
  });
});

/* ======================================================================================== */

describe('parseInetSockets: good lines', () => {
  it('reads a real LISTEN line with its trailing fields and padding', () => {
    const r = one(REAL.tcpListen);
    expect(r).toMatchObject({ badLines: 0, sample: null, message: null });
    expect(r.records).toEqual<RawInetSocket[]>([
      {
        proto: 'tcp',
        family: 4,
        localAddress: '0.0.0.0',
        localPort: 2024,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        stateCode: 10,
        state: 'LISTEN',
        sendQ: 0,
        recvQ: 0,
        timerCode: 0,
        timerKind: 'off',
        timerRemainingMs: 0,
        retransmits: 0,
        uid: 0,
        probes: 0,
        inode: 1681,
      },
    ]);
  });

  it('reads a real TIME_WAIT line: timewait timer in clock ticks, inode 0', () => {
    const [s] = one(REAL.tcpTimeWait).records;
    expect(s).toMatchObject({ state: 'TIME_WAIT', timerKind: 'timewait', timerCode: 3, timerRemainingMs: 0x686 * 10, inode: 0 });
    expect(s).toMatchObject({ localAddress: '127.0.0.1', localPort: 0xa806, remoteAddress: '127.0.0.1', remotePort: 0xb0ad });
  });

  it('reads real IPv6 lines: ::1 and v4-mapped', () => {
    const r = parseInetSockets(file(HEADER6, REAL.tcp6Loopback, REAL.tcp6Mapped), 'tcp6', LE);
    expect(r.badLines).toBe(0);
    expect(r.records.map((s) => [s.family, s.localAddress, s.localPort, s.remoteAddress, s.remotePort, s.state])).toEqual([
      [6, '::1', 0x9efb, '::', 0, 'LISTEN'],
      [6, '::ffff:127.0.0.1', 0x8173, '::ffff:127.0.0.1', 0xe7ec, 'ESTABLISHED'],
    ]);
  });

  it('reads udp (5-wide slot, hash-bucket numbers) and raw6 (port = protocol)', () => {
    const udp = parseInetSockets(file(UDP_HEADER4, REAL.udpConnected), 'udp', LE);
    expect(udp.records[0]).toMatchObject({ proto: 'udp', state: 'ESTABLISHED', localPort: 0x8d6c, remotePort: 0xadb1, inode: 103122 });
    const raw6 = parseInetSockets(file(HEADER6, REAL.raw6Icmp), 'raw6', LE);
    expect(raw6.records[0]).toMatchObject({ proto: 'raw6', family: 6, localAddress: '::1', localPort: 58, state: 'CLOSE' });
  });

  const stateCodes = Array.from({ length: 12 }, (_, i) => i + 1);
  it.each(stateCodes)('state code %i → netstat name', (code) => {
    const [s] = one(kline({ local: LO4, localPort: 80, remote: ANY4, remotePort: 0, st: code })).records;
    expect(s?.stateCode).toBe(code);
    expect(s?.state).toBe(TCP_STATE_BY_CODE[code]);
  });

  it('spells every state as netstat does, 0C included', () => {
    const names = stateCodes.map((st) => one(kline({ local: LO4, localPort: 1, remote: ANY4, remotePort: 0, st })).records[0]?.state);
    expect(names).toEqual<TcpState[]>([
      'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
      'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV',
    ]);
  });

  it.each([0, 13, 0x0d, 0x7f, 0xff])('unknown state code %i → UNKNOWN with the code kept, not a bad line', (st) => {
    const r = one(kline({ local: LO4, localPort: 1, remote: ANY4, remotePort: 0, st }));
    expect(r.badLines).toBe(0);
    expect(r.records[0]).toMatchObject({ state: 'UNKNOWN', stateCode: st });
  });

  it.each([
    [0, 'off'],
    [1, 'on'],
    [2, 'keepalive'],
    [3, 'timewait'],
    [4, 'probe'],
    [5, 'unknown'],
    [0xff, 'unknown'],
  ] as const)('timer code %i → %s', (tr, kind) => {
    const [s] = one(kline({ local: LO4, localPort: 1, remote: LO4, remotePort: 2, st: 1, tr, when: 150 })).records;
    expect(s).toMatchObject({ timerCode: tr, timerKind: kind, timerRemainingMs: 1500 });
  });

  it('reads the counters: queues, retransmits (hex), uid, probes, inode (decimal)', () => {
    const line = kline({
      local: LO4, localPort: 443, remote: [10, 1, 2, 3], remotePort: 50000, st: 1,
      tx: 0xffffffff, rx: 0xfffffffe, tr: 4, when: 0xffffffff, retr: 0x1f, uid: 4294967294, timeout: 12, inode: 4294967295,
    });
    const [s] = one(line).records;
    expect(s).toMatchObject({
      remoteAddress: '10.1.2.3', remotePort: 50000,
      sendQ: 4294967295, recvQ: 4294967294, timerKind: 'probe', timerRemainingMs: 42949672950,
      retransmits: 31, uid: 4294967294, probes: 12, inode: 4294967295,
    });
  });

  it('takes lowercase hex, tabs and runs of spaces between fields, and no trailing fields at all', () => {
    const r = one('0:\t0100007f:0050   00000000:0000\t0a 00000000:00000000 00:00000000 00000000 1000 0 77\t');
    expect(r.badLines).toBe(0);
    expect(r.records[0]).toMatchObject({ localAddress: '127.0.0.1', localPort: 80, state: 'LISTEN', uid: 1000, inode: 77 });
  });

  it('reads a file without a header', () => {
    const r = parseInetSockets(`${REAL.tcpListen}\n${REAL.tcpTimeWait}\n`, 'tcp', LE);
    expect(r).toMatchObject({ badLines: 0, message: null });
    expect(r.records).toHaveLength(2);
  });

  it('accepts CRLF line ends, including the header', () => {
    const r = parseInetSockets([HEADER4, REAL.tcpListen, REAL.tcpTimeWait, ''].join('\r\n'), 'tcp', LE);
    expect(r).toMatchObject({ badLines: 0, message: null });
    expect(r.records.map((s) => s.inode)).toEqual([1681, 0]);
  });

  it('ignores blank lines', () => {
    const r = parseInetSockets(`${HEADER4}\n\n${REAL.tcpListen}\n   \n\n`, 'tcp', LE);
    expect(r).toMatchObject({ badLines: 0, message: null });
    expect(r.records).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['newline only', '\n'],
    ['header only', `${HEADER4}\n`],
    ['header without newline', HEADER4],
    ['tcp6 header only', `${HEADER6}\n`],
  ])('%s: no records, nothing wrong', (_, text) => {
    expect(parseInetSockets(text, 'tcp', LE)).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });

  it('decodes in the byte order it is told', () => {
    const line = kline({ local: LO4, localPort: 80, remote: [10, 0, 0, 1], remotePort: 1, st: 1 }, 'be');
    expect(parseInetSockets(line + '\n', 'tcp', { byteOrder: 'be' }).records[0]).toMatchObject({
      localAddress: '127.0.0.1',
      remoteAddress: '10.0.0.1',
    });
    expect(parseInetSockets(line + '\n', 'tcp', LE).records[0]?.localAddress).toBe('1.0.0.127');
    expect(HOST_BYTE_ORDER).toBe(new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 'le' : 'be');
  });
});

describe('parseInetSockets: hostile lines', () => {
  const good4 = kline({ local: LO4, localPort: 80, remote: ANY4, remotePort: 0, st: 10, inode: 5 });
  const fields = good4.trim().split(/\s+/);
  /** good4 with field i replaced. */
  const withField = (i: number, token: string): string => fields.map((f, j) => (j === i ? token : f)).join(' ');

  it.each([
    ['too few fields', fields.slice(0, 9).join(' '), 'too few fields (9 of 10)'],
    ['one field', '0:', 'too few fields (1 of 10)'],
    ['garbage', 'this is not a socket line at all, no matter what', 'bad slot "this"'],
    ['slot without colon', withField(0, '0'), 'bad slot "0"'],
    ['slot not decimal', withField(0, 'a:'), 'bad slot "a:"'],
    ['non-hex local address', withField(1, '0100007Z:0050'), 'bad local address "0100007Z:0050" (address is not hex)'],
    ['short local address', withField(1, '100007F:0050'), 'bad local address "100007F:0050" (7 hex digits, want 8 for IPv4)'],
    ['IPv6 address in an IPv4 file', withField(1, '00000000000000000000000001000000:0050'), 'want 8 for IPv4'],
    ['local port > 65535', withField(1, '0100007F:10000'), 'bad local address "0100007F:10000" (port 65536 > 65535)'],
    ['local port not hex', withField(1, '0100007F:00G0'), '(port is not hex)'],
    ['no port', withField(1, '0100007F'), '(no ":" before the port)'],
    ['empty port', withField(1, '0100007F:'), '(port is not hex)'],
    ['remote address garbage', withField(2, 'xyz'), 'bad remote address "xyz"'],
    ['state not hex', withField(3, 'ZZ'), 'bad state "ZZ"'],
    ['queues without colon', withField(4, '0000000000000000'), 'bad queues "0000000000000000"'],
    ['queues not hex', withField(4, '00000000:0000000X'), 'bad queues "00000000:0000000X"'],
    ['queue too long', withField(4, '00000000:FFFFFFFFFFFFFF'), 'bad queues'],
    ['timer without when', withField(5, '00:'), 'bad timer "00:"'],
    ['timer not hex', withField(5, 'zz:00000000'), 'bad timer "zz:00000000"'],
    ['retrnsmt not hex', withField(6, '0000000g'), 'bad retrnsmt "0000000g"'],
    ['negative uid', withField(7, '-1'), 'bad uid "-1"'],
    ['uid not decimal', withField(7, '1e3'), 'bad uid "1e3"'],
    ['timeout not decimal', withField(8, 'x'), 'bad timeout "x"'],
    ['inode with letters', withField(9, '12a'), 'bad inode "12a"'],
    ['inode too long', withField(9, '1234567890123456'), 'bad inode "1234567890123456"'],
    ['a second header', HEADER4, 'bad slot "sl"'],
  ])('%s → one bad line, reason with the raw token', (_, line, reason) => {
    const r = one(line);
    expect(r.records).toEqual([]);
    expect(r.badLines).toBe(1);
    expect(r.sample).toContain(reason);
    expect(r.message).toBeNull();
  });

  it('an IPv4 address in an IPv6 file is bad', () => {
    const r = one(REAL.tcpListen, 'tcp6');
    expect(r.badLines).toBe(1);
    expect(r.sample).toContain('bad local address "00000000:07E8" (8 hex digits, want 32 for IPv6)');
  });

  it('a last line cut before its trailing fields is bad; one cut after the inode is fine', () => {
    const cutInInode = `${HEADER4}\n${REAL.tcpListen}\n${REAL.tcpListen.slice(0, REAL.tcpListen.indexOf(' 1681') + 3)}`;
    const r = parseInetSockets(cutInInode, 'tcp', LE);
    expect(r.records).toHaveLength(1);
    expect(r.badLines).toBe(1);
    expect(r.sample).toMatch(/^truncated last line \(10 fields, no newline\): 0: 00000000:07E8 /);

    const cutMidAddress = parseInetSockets(`${HEADER4}\n${REAL.tcpListen.slice(0, 12)}`, 'tcp', LE);
    expect(cutMidAddress).toMatchObject({ records: [], badLines: 1 });
    expect(cutMidAddress.sample).toContain('truncated last line (2 fields, no newline)');

    const cutAfterInode = parseInetSockets(`${HEADER4}\n${REAL.tcpListen.slice(0, REAL.tcpListen.indexOf(' 1681') + 8)}`, 'tcp', LE);
    expect(cutAfterInode).toMatchObject({ badLines: 0 });
    expect(cutAfterInode.records[0]?.inode).toBe(1681);
  });

  it('counts each bad line once, keeps the first as the sample, and keeps the good ones', () => {
    const text = file(HEADER4, REAL.tcpListen, 'garbage', withField(3, 'ZZ'), REAL.tcpTimeWait, '0: 1 2', good4);
    const r = parseInetSockets(text, 'tcp', LE);
    expect(r.records.map((s) => s.inode)).toEqual([1681, 0, 5]);
    expect(r.badLines).toBe(3);
    expect(r.sample).toBe('too few fields (1 of 10): garbage');
  });

  it('caps the sample at 200 characters', () => {
    const r = one(`0: ${'Z'.repeat(500)} 1 2 3 4 5 6 7 8 9`);
    expect(r.sample!.length).toBe(200);
  });

  it.each([
    ['a unix header', 'Num       RefCount Protocol Flags    Type St Inode Path'],
    ['a route header', 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask'],
    ['binary junk', '\u0000\u0001\u0002 \uFFFD\uFFFD'],
  ])('a first line that is %s → message, and the lines after are still read', (_, header) => {
    const r = parseInetSockets(`${header}\n${REAL.tcpListen}\n`, 'tcp', LE);
    expect(r.message).toMatch(/^unrecognised header "/);
    expect(r.records).toHaveLength(1);
    expect(r.badLines).toBe(0);
  });

  it('never throws on odd text', () => {
    for (const text of ['\u0000', ':', '0:', '\r\n\r\n', '\uD800', 'sl', '   0: ::::::::::::::', '9'.repeat(100) + ':', '0:'.repeat(1000)]) {
      expect(() => parseInetSockets(text, 'tcp6')).not.toThrow();
    }
  });

  it('parses a file of 200k lines', () => {
    // Built from precomputed pieces: formatting 200k lines field by field costs seconds.
    const locals = Array.from({ length: 256 }, (_, b) => kernelHex([...LO6.slice(0, 13), b, 0, 1]));
    const remote = kernelHex(LO6);
    const lines = [HEADER6];
    for (let i = 0; i < 200_000; i++) {
      lines.push(
        `${String(i).padStart(4)}: ${locals[i & 0xff]}:1F90 ${remote}:${HEX(1024 + (i % 60000), 4)} 01 00000000:00000000 ` +
          `02:0000${HEX(i & 0xffff, 4)} 00000000  1000        0 ${1_000_000 + i} 1 0000000000000000 20 4 30 10 -1`,
      );
    }
    const r = parseInetSockets(lines.join('\n') + '\n', 'tcp6', LE);
    expect(r.badLines).toBe(0);
    expect(r.records).toHaveLength(200_000);
    expect(r.records[199_999]).toMatchObject({
      localAddress: '::3f:1',
      localPort: 8080,
      remotePort: 1024 + (199_999 % 60000),
      timerKind: 'keepalive',
      timerRemainingMs: (199_999 & 0xffff) * 10,
      uid: 1000,
      inode: 1_199_999,
    });
    expect(new Set(r.records.map((s) => s.localAddress)).size).toBe(256);
  });
});

/* ======================================================================================== */

describe('parseInetSockets: properties', () => {
  // Checks inside properties are plain comparisons that throw: vitest's expect costs ~100 µs a call,
  // which is most of the run time at 1000 cases.
  const PROTOS: InetProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];
  const is6 = (p: InetProto): boolean => p.endsWith('6');
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const port = fc.integer({ min: 0, max: 0xffff });
  const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const TAILS = ['', ' 1 0000000000000000 100 0 0 10 0', ' 2 00000000c1700a52 0        ', ' 3 00000000a2a8c0b4', ' -1 x y z 0 0 0 0 0 0 0 0'];

  const specFor = (proto: InetProto) =>
    fc.record({
      proto: fc.constant(proto),
      slot: fc.integer({ min: 0, max: 99999 }),
      local: is6(proto) ? fc.oneof(ipv6Bytes, bytes(16)) : bytes(4),
      localPort: port,
      remote: is6(proto) ? fc.oneof(ipv6Bytes, bytes(16)) : bytes(4),
      remotePort: port,
      st: fc.integer({ min: 0, max: 0xff }),
      tx: u32,
      rx: u32,
      tr: fc.integer({ min: 0, max: 0xff }),
      when: u32,
      retr: u32,
      uid: u32,
      timeout: fc.integer({ min: 0, max: 0x7fffffff }),
      inode: u32,
      tail: fc.constantFrom(...TAILS),
    });
  type Spec = LineSpec & { proto: InetProto; local: Uint8Array; remote: Uint8Array; st: number };
  const record = fc.constantFrom(...PROTOS).chain((p) => specFor(p));

  /** Address text back to 16 bytes (IPv4 as v4-mapped) with the shared parser. */
  const as16 = (b: Uint8Array): string => (b.length === 4 ? `0,0,0,0,0,0,0,0,0,0,255,255,${b.join(',')}` : b.join(','));
  const textBytes = (t: string): string => Array.from(parseIp(t) ?? []).join(',');

  function mismatch(got: RawInetSocket, want: Spec): string | null {
    const wanted: Partial<RawInetSocket> = {
      proto: want.proto,
      family: is6(want.proto) ? 6 : 4,
      localPort: want.localPort,
      remotePort: want.remotePort,
      stateCode: want.st,
      state: TCP_STATE_BY_CODE[want.st] ?? 'UNKNOWN',
      sendQ: want.tx,
      recvQ: want.rx,
      timerCode: want.tr,
      timerKind: (['off', 'on', 'keepalive', 'timewait', 'probe'] as const)[want.tr ?? 0] ?? 'unknown',
      timerRemainingMs: (want.when ?? 0) * 10,
      retransmits: want.retr,
      uid: want.uid,
      probes: want.timeout,
      inode: want.inode,
    };
    for (const [k, v] of Object.entries(wanted)) {
      if (got[k as keyof RawInetSocket] !== v) return `${k}: got ${String(got[k as keyof RawInetSocket])}, want ${String(v)}`;
    }
    if (textBytes(got.localAddress) !== as16(want.local)) return `local ${got.localAddress} is not ${as16(want.local)}`;
    if (textBytes(got.remoteAddress) !== as16(want.remote)) return `remote ${got.remoteAddress} is not ${as16(want.remote)}`;
    return null;
  }

  it('a kernel-formatted line round-trips, in either byte order (addresses checked via parseIp)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROTOS).chain((p) => fc.array(specFor(p), { minLength: 1, maxLength: 5 })),
        fc.constantFrom<ByteOrder>('le', 'be'),
        (specs, order) => {
          const proto = specs[0]!.proto;
          const text = file(is6(proto) ? HEADER6 : HEADER4, ...specs.map((s) => kline(s, order)));
          const r = parseInetSockets(text, proto, { byteOrder: order });
          if (r.badLines !== 0 || r.records.length !== specs.length) throw new Error(`${r.records.length} records, ${r.sample}`);
          r.records.forEach((got, i) => {
            const m = mismatch(got, specs[i]!);
            if (m !== null) throw new Error(m);
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  const hostileChar = fc.constantFrom(' ', '\t', '\r', '\n', ':', '0', '1', '7', 'F', 'f', 'z', '@', '-', '\u0000', '\uFFFD', '\u00e9', '\uD800');
  const junkLine = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc.string({ unit: hostileChar, maxLength: 160 }),
    fc.array(fc.stringMatching(/^[0-9A-Fa-f:x-]{0,34}$/), { maxLength: 14 }).map((t) => t.join(' ')),
    // A real line with one character dropped or changed.
    fc.tuple(record, fc.nat(), hostileChar).map(([s, at, c]) => {
      const l = kline(s);
      const i = at % l.length;
      return at % 2 === 0 ? l.slice(0, i) + l.slice(i + 1) : l.slice(0, i) + c + l.slice(i + 1);
    }),
  );

  it('random text never throws and never yields an out-of-range record', () => {
    fc.assert(
      fc.property(fc.array(junkLine, { maxLength: 12 }), fc.constantFrom(...PROTOS), fc.constantFrom('\n', '\r\n'), (lines, proto, eol) => {
        const text = lines.join(eol);
        const r = parseInetSockets(text, proto);
        if (r.records.length + r.badLines > text.split('\n').length) throw new Error('more results than lines');
        for (const s of r.records) {
          if (s.localPort > 0xffff || s.remotePort > 0xffff) throw new Error(`port out of range: ${JSON.stringify(s)}`);
          if (!Number.isSafeInteger(s.inode) || s.inode < 0) throw new Error(`inode ${s.inode}`);
          if (parseIp(s.localAddress) === null || parseIp(s.remoteAddress) === null) throw new Error(`address ${s.localAddress}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  /** Tokens that make a line bad wherever the field stands, for either family. */
  const BAD_TOKENS: readonly (readonly string[])[] = [
    ['x:', '0', ':', '-1:'],
    ['0100007Z:0050', '0100007F:10000', '0100007F', '100007F:0050', 'Z', '0100007F:'],
    ['0100007Z:0050', '0100007F:FFFFF', ':', '00000000000000000000000000000000000:0'],
    ['ZZ', '-1', '0x1'],
    ['00000000', '0:G', ':0', '0::0'],
    ['00', 'G0:0', '00:', '00:00000000000000'],
    ['G', '-1', '00000000000000'],
    ['-1', 'x', '1.5', '1234567890123456'],
    ['x', '-', '+1'],
    ['x', '12a', '-3', '1234567890123456'],
  ];
  /** A kernel line broken in one field, or cut to fewer than 10 fields (never to nothing). */
  const breakLine = (s: Spec, field: number, cut: boolean, pick: number): string => {
    const parts = kline({ ...s, tail: '' }).trim().split(/ +/);
    if (cut) return parts.slice(0, Math.max(1, field)).join(' ');
    const choices = BAD_TOKENS[field]!;
    parts[field] = choices[pick % choices.length]!;
    return parts.join(' ');
  };

  it('each bad line is counted exactly once, and every good line is kept', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROTOS).chain((proto) =>
          fc.array(
            fc.tuple(specFor(proto), fc.boolean(), fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.nat()),
            { maxLength: 12 },
          ),
        ),
        (items) => {
          if (items.length === 0) return;
          const proto = items[0]![0].proto;
          const lines = items.map(([s, ok, field, cut, pick]) => (ok ? kline(s) : breakLine(s, field, cut, pick)));
          const good = items.filter(([, ok]) => ok).length;
          const r = parseInetSockets(file(is6(proto) ? HEADER6 : HEADER4, ...lines), proto, LE);
          if (r.records.length !== good) throw new Error(`${r.records.length} records, want ${good}`);
          if (r.badLines !== items.length - good) throw new Error(`${r.badLines} bad, want ${items.length - good}: ${r.sample}`);
          if ((r.sample === null) !== (good === items.length)) throw new Error('sample without bad lines');
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/* ======================================================================================== */

interface ExpectedInet {
  proto: InetProto;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: TcpState;
  note: string;
}
const FIXTURE = new URL('../fixtures/proc/live-loopback/', import.meta.url);
const fixtureExpected = JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as {
  byteOrder: ByteOrder;
  inet: ExpectedInet[];
};

describe('the captured live-loopback fixture', () => {
  const PROTOS: InetProto[] = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'];
  const parsed = Object.fromEntries(
    PROTOS.map((p) => {
      const text = readFileSync(new URL(`net/${p}`, FIXTURE), 'utf8');
      return [p, { text, result: parseInetSockets(text, p, { byteOrder: fixtureExpected.byteOrder }) }];
    }),
  ) as Record<InetProto, { text: string; result: ReturnType<typeof parseInetSockets> }>;

  it.each(PROTOS)('%s: every line parses, none is bad', (p) => {
    const { text, result } = parsed[p];
    expect(result.message).toBeNull();
    expect(result.badLines).toBe(0);
    expect(result.records).toHaveLength(text.split('\n').filter((l) => l.trim() !== '').length - 1);
  });

  it.each(fixtureExpected.inet.map((e) => [`${e.proto} ${e.state} ${e.note}`, e] as const))('has %s', (_, e) => {
    const found = parsed[e.proto].result.records.filter(
      (s) =>
        s.localAddress === e.localAddress &&
        s.localPort === e.localPort &&
        s.remoteAddress === e.remoteAddress &&
        s.remotePort === e.remotePort,
    );
    expect(found.map((s) => s.state)).toEqual([e.state]);
    const s = found[0]!;
    if (e.state === 'TIME_WAIT') expect(s).toMatchObject({ timerKind: 'timewait', inode: 0 });
    else expect(s.inode).toBeGreaterThan(0);
  });

  it('covers the states the capture script was asked for', () => {
    const states = new Set(fixtureExpected.inet.map((e) => `${e.proto}:${e.state}`));
    for (const want of ['tcp:LISTEN', 'tcp6:LISTEN', 'tcp:ESTABLISHED', 'tcp6:ESTABLISHED', 'tcp:CLOSE_WAIT', 'tcp:FIN_WAIT2', 'tcp:TIME_WAIT', 'udp:CLOSE', 'udp:ESTABLISHED', 'udp6:CLOSE', 'udp6:ESTABLISHED']) {
      expect(states).toContain(want);
    }
    expect(fixtureExpected.inet.some((e) => e.localAddress.startsWith('::ffff:'))).toBe(true);
  });
});

/* ======================================================================================== */

const LINUX = process.platform === 'linux' && existsSync('/proc/net/tcp');
const HAVE_SS = LINUX && (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Tuple {
  state: string;
  local: string;
  remote: string;
}

/** `ss -tanH` state names → netstat's. */
const SS_STATES: Record<string, TcpState> = {
  ESTAB: 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2', 'TIME-WAIT': 'TIME_WAIT', UNCONN: 'CLOSE', CLOSE: 'CLOSE',
  'CLOSE-WAIT': 'CLOSE_WAIT', 'LAST-ACK': 'LAST_ACK', LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};

/**
 * `127.0.0.1:80`, `[::1]:80`, `[::ffff:127.0.0.1]:80`, `0.0.0.0:*`, `127.0.0.1%lo:53` → `addr port`.
 * ss prints the IPv6 any address of a dual-stack socket as a bare `*` (ss.c inet_addr_print), so
 * the family comes from the other end of the line.
 */
function ssEndpoint(text: string, family: 4 | 6): string {
  const colon = text.lastIndexOf(':');
  let host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  const zone = host.indexOf('%');
  if (zone >= 0) host = host.slice(0, zone);
  if (host === '*') host = family === 6 ? '::' : '0.0.0.0';
  return `${host} ${port === '*' ? 0 : Number(port)}`;
}

describe.skipIf(!LINUX)('the real kernel', () => {
  const open: { close(): void }[] = [];
  const cleanup = (): void => {
    for (const o of open.splice(0).reverse()) o.close();
  };

  async function listen(host: string): Promise<net.Server> {
    const server = net.createServer((s) => open.push({ close: () => s.destroy() }));
    open.push({ close: () => server.close() });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, resolve);
    });
    return server;
  }

  async function connect(host: string, port: number): Promise<net.Socket> {
    const socket = net.connect({ host, port });
    open.push({ close: () => socket.destroy() });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('connect', resolve);
    });
    return socket;
  }

  it('lists the loopback sockets this test opens, as ss does', async () => {
    try {
      const hosts = [
        ['127.0.0.1', '127.0.0.1', 'tcp', '0.0.0.0'],
        ['::1', '::1', 'tcp6', '::'],
        ['::ffff:127.0.0.1', '127.0.0.1', 'tcp6', '::'], // IPv6 listener on a v4-mapped address, IPv4 client
      ] as const;
      const want: (Tuple & { proto: InetProto })[] = [];
      const listenPorts = new Set<number>();
      for (const [listenHost, clientHost, proto, any] of hosts) {
        const server = await listen(listenHost);
        const port = (server.address() as net.AddressInfo).port;
        const client = await connect(clientHost, port);
        const clientPort = client.localPort!;
        listenPorts.add(port);
        const clientProto: InetProto = clientHost.includes(':') ? 'tcp6' : 'tcp';
        want.push(
          { proto, state: 'LISTEN', local: `${listenHost} ${port}`, remote: `${any} 0` },
          { proto: clientProto, state: 'ESTABLISHED', local: `${clientHost} ${clientPort}`, remote: `${clientHost} ${port}` },
          { proto, state: 'ESTABLISHED', local: `${listenHost} ${port}`, remote: `${listenHost} ${clientPort}` },
        );
      }
      // The accepted ends exist once the handshake is done; give the server side a moment to accept.
      await new Promise((r) => setTimeout(r, 50));

      // Ours: both ends are endpoints we opened (or a listener on one). Matching on ports alone
      // would catch other processes' sockets that happen to use the same port on another address.
      const endpoints = new Set(want.flatMap((t) => (t.state === 'LISTEN' ? [t.local] : [t.local, t.remote])));
      const ours = (t: Tuple): boolean => endpoints.has(t.local) && (t.state === 'LISTEN' || endpoints.has(t.remote));
      const fromProc: (Tuple & { proto: InetProto })[] = [];
      for (const proto of ['tcp', 'tcp6'] as const) {
        const r = parseInetSockets(readFileSync(`/proc/net/${proto}`, 'utf8'), proto);
        expect(r.message).toBeNull();
        expect(r.badLines).toBe(0);
        for (const s of r.records) {
          const t = { proto, state: s.state, local: `${s.localAddress} ${s.localPort}`, remote: `${s.remoteAddress} ${s.remotePort}` };
          if (ours(t)) fromProc.push(t);
        }
      }
      const key = (t: Tuple & { proto?: string }): string => `${t.proto ?? ''} ${t.state} ${t.local} ${t.remote}`;
      expect(fromProc.map(key).sort()).toEqual(want.map(key).sort());

      if (HAVE_SS) {
        // Filtered in ss itself: a busy host has tens of thousands of TIME_WAIT lines.
        const filter = [...listenPorts].map((p) => `sport = :${p} or dport = :${p}`).join(' or ');
        const ss = execFileSync('ss', ['-tanH', `( ${filter} )`], { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 << 20 });
        const fromSs = ss
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            const f = l.trim().split(/\s+/);
            const family = f[3]!.startsWith('[') || f[3]!.startsWith('*') ? 6 : 4;
            return { state: SS_STATES[f[0]!] ?? f[0]!, local: ssEndpoint(f[3]!, family), remote: ssEndpoint(f[4]!, family) };
          })
          .filter(ours);
        const noProto = (t: Tuple): string => `${t.state} ${t.local} ${t.remote}`;
        expect(fromProc.map(noProto).sort()).toEqual(fromSs.map(noProto).sort());
      }
    } finally {
      cleanup();
    }
  });
});
