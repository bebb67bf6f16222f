/**
 * /proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6}: one inet socket per line, pure parser.
 *
 * The kernel prints every one of these files with the same layout (net/ipv4/tcp_ipv4.c
 * get_tcp4_sock, net/ipv4/udp.c udp4_format_sock, net/ipv4/raw.c raw_sock_seq_show, and the
 * IPv6 twins):
 *
 *   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK ..."
 *    sl   local      remote      st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode [ref pointer …]
 *
 * IPv6 files print each address as four `%08X` words. Every word is a network-order 32-bit value
 * read as a host-order integer, so on little-endian hosts the four bytes of each word come out
 * reversed: `0100007F` is 127.0.0.1. Raw sockets print the IP protocol number as the local "port".
 * Fields past the inode (ref count, pointer, drops, rto…) vary by protocol and are ignored.
 *
 * This runs over 200k-line files every tick, so the hot loop works on char codes and field
 * offsets: no split, no regex, no substring unless an address is decoded or a line is bad.
 */
import type { InetProto, TcpState, TimerKind } from '@netscope/shared';
import { TCP_STATE_BY_CODE } from '@netscope/shared';
import { BadLines, result, type ParseResult } from './source.js';
import { fieldEndsAt, hexDigit, scanDec, scanHex, scanned, skipSpace, tokens } from './scan.js';

export interface RawInetSocket {
  proto: InetProto;
  family: 4 | 6;
  /** IPv4 dotted quad, or RFC 5952 IPv6 text; v4-mapped as `::ffff:a.b.c.d`. */
  localAddress: string;
  /** For raw sockets: the IP protocol number. */
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Kernel `st` code; `state` is 'UNKNOWN' for codes netscope does not know. */
  stateCode: number;
  state: TcpState;
  /** tx_queue */
  sendQ: number;
  /** rx_queue */
  recvQ: number;
  /** Kernel `tr` code: 0 off, 1 on, 2 keepalive, 3 timewait, 4 probe. */
  timerCode: number;
  timerKind: TimerKind;
  /** `tm->when` is in USER_HZ clock ticks (100/s, jiffies_to_clock_t), so ×10 ms. */
  timerRemainingMs: number;
  /** `retrnsmt` column. */
  retransmits: number;
  uid: number;
  /** The `timeout` column (icsk_probes_out, 0 for non-TCP): netstat -o's last figure. */
  probes: number;
  /** 0 for sockets without one (TIME_WAIT, request sockets). */
  inode: number;
}

/** Order of the bytes within each printed 32-bit word: the kernel's own (host) order. */
export type ByteOrder = 'le' | 'be';

/** The byte order of the machine we run on, which is the order of the /proc files it serves. */
export const HOST_BYTE_ORDER: ByteOrder = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'le' : 'be';

export interface InetParseOptions {
  /**
   * Byte order of the kernel that wrote the text. Defaults to this host's; pass it explicitly for
   * captured fixtures (every file under test/fixtures was written by a little-endian kernel).
   */
  byteOrder?: ByteOrder;
}

const FAMILY: Readonly<Record<InetProto, 4 | 6>> = {
  tcp: 4,
  tcp6: 6,
  udp: 4,
  udp6: 6,
  udplite: 4,
  udplite6: 6,
  raw: 4,
  raw6: 6,
};

/** Kernel timer codes (`tr` in /proc, `idiag_timer` in sock_diag) → names. */
export const TIMER_KINDS: readonly TimerKind[] = ['off', 'on', 'keepalive', 'timewait', 'probe'];

/** USER_HZ: `tm->when` is in clock ticks of 1/100 s on every Linux architecture netscope targets. */
const MS_PER_CLOCK_TICK = 10;

/** Fields up to and including the inode. */
const REQUIRED_FIELDS = 10;

/* ---------------------------------------------------------------------------------------------
 * Char-code helpers beyond the shared ones in scan.ts: -1 for anything malformed, no allocation.
 * ------------------------------------------------------------------------------------------- */

/** Two hex digits at text[i], i+1 → 0..255, or -1. */
function byteAt(text: string, i: number): number {
  const hi = hexDigit(text.charCodeAt(i));
  const lo = hexDigit(text.charCodeAt(i + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/* ---------------------------------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------------------------------- */

/** Scratch for the eight 16-bit groups of the IPv6 address being decoded (single-threaded use). */
const groups = new Uint16Array(8);

/** IPv4 from 8 hex digits at text[start]; null when not hex. */
function ipv4At(text: string, start: number, le: boolean): string | null {
  const b0 = byteAt(text, start);
  const b1 = byteAt(text, start + 2);
  const b2 = byteAt(text, start + 4);
  const b3 = byteAt(text, start + 6);
  if ((b0 | b1 | b2 | b3) < 0) return null;
  return le ? `${b3}.${b2}.${b1}.${b0}` : `${b0}.${b1}.${b2}.${b3}`;
}

/** IPv6 from 32 hex digits at text[start] into `groups`; false when not hex. */
function ipv6At(text: string, start: number, le: boolean): boolean {
  for (let w = 0; w < 4; w++) {
    const at = start + w * 8;
    const p0 = byteAt(text, at);
    const p1 = byteAt(text, at + 2);
    const p2 = byteAt(text, at + 4);
    const p3 = byteAt(text, at + 6);
    if ((p0 | p1 | p2 | p3) < 0) return false;
    // Little-endian: the word's lowest byte (printed last) is the first byte in memory.
    groups[w * 2] = le ? (p3 << 8) | p2 : (p0 << 8) | p1;
    groups[w * 2 + 1] = le ? (p1 << 8) | p0 : (p2 << 8) | p3;
  }
  return true;
}

/**
 * RFC 5952 text of the address in `groups`: lowercase, no leading zeros, the longest run of two or
 * more zero groups replaced by `::` (the leftmost on a tie), a lone zero group kept as `0`.
 * IPv4-mapped addresses (::ffff:0:0/96) keep their IPv4 tail dotted, as ss and RFC 5952 §5 do.
 */
export function formatIpv6Groups(g: ArrayLike<number>): string {
  const g0 = g[0] ?? 0;
  const g1 = g[1] ?? 0;
  const g2 = g[2] ?? 0;
  const g3 = g[3] ?? 0;
  const g4 = g[4] ?? 0;
  const g5 = g[5] ?? 0;
  const g6 = g[6] ?? 0;
  const g7 = g[7] ?? 0;
  if ((g0 | g1 | g2 | g3 | g4) === 0 && g5 === 0xffff) {
    return `::ffff:${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a run must be longer than one group to be compressed
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && (g[i] ?? 0) === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      const len = i - runStart;
      if (len > bestLen) {
        bestStart = runStart;
        bestLen = len;
      }
      runStart = -1;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += (g[i] ?? 0).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/**
 * Decode one address as /proc/net prints it (8 hex digits for IPv4, 32 for IPv6, each 32-bit word
 * in the kernel's byte order). null when the length is wrong for the family or a digit is not hex.
 */
export function decodeHexAddress(hex: string, family: 4 | 6, byteOrder: ByteOrder = HOST_BYTE_ORDER): string | null {
  const le = byteOrder === 'le';
  if (family === 4) return hex.length === 8 ? ipv4At(hex, 0, le) : null;
  if (hex.length !== 32 || !ipv6At(hex, 0, le)) return null;
  return formatIpv6Groups(groups);
}

/* ---------------------------------------------------------------------------------------------
 * The parser. Each line is read in one pass: every field is decoded where it stands and must end
 * at whitespace (or at the ':' inside `address:port`, `tx:rx`, `tr:when`). Only a line that fails
 * is split into tokens again, to say which token was wrong.
 * ------------------------------------------------------------------------------------------- */

/** Column names in the order the kernel prints them, for bad-line reasons. */
const FIELD_NAMES = ['slot', 'local address', 'remote address', 'state', 'queues', 'timer', 'retrnsmt', 'uid', 'timeout', 'inode'] as const;

/** Is this line the column header every inet socket file starts with? */
function isHeader(line: string): boolean {
  const t = line.trim().split(/\s+/);
  return (
    t[0] === 'sl' &&
    t[1] === 'local_address' &&
    (t[2] === 'rem_address' || t[2] === 'remote_address') &&
    t[3] === 'st'
  );
}

/** Does text[from, to) begin like a socket line (`   0: ...`)? */
function startsWithSlot(text: string, from: number, to: number): boolean {
  const i = scanDec(text, skipSpace(text, from, to), to);
  return i >= 0 && text.charCodeAt(i) === 58;
}

/** Why an `address:port` token failed, for the bad-line sample. Slow path only. */
function endpointProblem(token: string, family: 4 | 6): string {
  const hexLen = family === 4 ? 8 : 32;
  const colon = token.indexOf(':');
  if (colon < 0) return 'no ":" before the port';
  if (colon !== hexLen) return `${colon} hex digits, want ${hexLen} for IPv${family}`;
  if (decodeHexAddress(token.slice(0, colon), family, 'le') === null) return 'address is not hex';
  const portEnd = scanHex(token, colon + 1, token.length);
  if (portEnd !== token.length) return 'port is not hex';
  return `port ${scanned} > 65535`;
}

/** What parseLine needs besides the line's offsets. */
interface LineContext {
  text: string;
  proto: InetProto;
  family: 4 | 6;
  le: boolean;
  /**
   * IPv6 text by its hex form. Addresses repeat a lot (every connection to one listener shares its
   * local address) and IPv6 formatting is the costliest step, so each is formatted once per file.
   * IPv4 is cheaper to decode than to look up.
   */
  addressCache: Map<string, string>;
}

/** Endpoint decoded by the last successful scanEndpoint. */
let epAddress = '';
let epPort = 0;

/** Decode `<hex address>:<hex port>` at text[i]; sets epAddress/epPort; returns the offset after it or -1. */
function scanEndpoint(ctx: LineContext, i: number, end: number): number {
  const text = ctx.text;
  const hexLen = ctx.family === 4 ? 8 : 32;
  if (i + hexLen >= end || text.charCodeAt(i + hexLen) !== 58) return -1;
  let address: string | null;
  if (ctx.family === 4) {
    address = ipv4At(text, i, ctx.le);
  } else {
    const key = text.slice(i, i + hexLen);
    address = ctx.addressCache.get(key) ?? null;
    if (address === null && ipv6At(text, i, ctx.le)) {
      address = formatIpv6Groups(groups);
      ctx.addressCache.set(key, address);
    }
  }
  if (address === null) return -1;
  const j = scanHex(text, i + hexLen + 1, end);
  if (j < 0 || scanned > 0xffff) return -1;
  epAddress = address;
  epPort = scanned;
  return j;
}

/** Which field a line failed at (0..9), or 10 when it ended right after the inode with no newline. */
type FailedField = number;

/** Parse the line text[start, end): a record, or the index of the field that is wrong. */
function parseLine(ctx: LineContext, start: number, end: number, terminated: boolean): RawInetSocket | FailedField {
  const text = ctx.text;
  // sl: decimal then ':'
  let i = scanDec(text, skipSpace(text, start, end), end);
  if (i < 0 || text.charCodeAt(i) !== 58 || !fieldEndsAt(text, i + 1, end)) return 0;

  i = scanEndpoint(ctx, skipSpace(text, i + 1, end), end);
  if (!fieldEndsAt(text, i, end)) return 1;
  const localAddress = epAddress;
  const localPort = epPort;

  i = scanEndpoint(ctx, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 2;
  const remoteAddress = epAddress;
  const remotePort = epPort;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 3;
  const stateCode = scanned;

  // tx_queue:rx_queue
  i = scanHex(text, skipSpace(text, i, end), end);
  if (i < 0 || text.charCodeAt(i) !== 58) return 4;
  const sendQ = scanned;
  i = scanHex(text, i + 1, end);
  if (!fieldEndsAt(text, i, end)) return 4;
  const recvQ = scanned;

  // tr:tm->when
  i = scanHex(text, skipSpace(text, i, end), end);
  if (i < 0 || text.charCodeAt(i) !== 58) return 5;
  const timerCode = scanned;
  i = scanHex(text, i + 1, end);
  if (!fieldEndsAt(text, i, end)) return 5;
  const when = scanned;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 6;
  const retransmits = scanned;

  i = scanDec(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 7;
  const uid = scanned;

  i = scanDec(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 8;
  const probes = scanned;

  i = scanDec(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 9;
  const inode = scanned;

  if (!terminated && skipSpace(text, i, end) === end) return 10;

  return {
    proto: ctx.proto,
    family: ctx.family,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    stateCode,
    state: TCP_STATE_BY_CODE[stateCode] ?? 'UNKNOWN',
    sendQ,
    recvQ,
    timerCode,
    timerKind: TIMER_KINDS[timerCode] ?? 'unknown',
    timerRemainingMs: when * MS_PER_CLOCK_TICK,
    retransmits,
    uid,
    probes,
    inode,
  };
}

/** The reason a line failed, with its raw token. Slow path: only bad lines get here. */
function explain(ctx: LineContext, start: number, end: number, terminated: boolean, failed: FailedField): string {
  const t = tokens(ctx.text, start, end, REQUIRED_FIELDS + 1);
  if (!terminated && t.length <= REQUIRED_FIELDS) return `truncated last line (${t.length} fields, no newline)`;
  if (t.length < REQUIRED_FIELDS) return `too few fields (${t.length} of ${REQUIRED_FIELDS})`;
  const token = t[failed] ?? '';
  const name = FIELD_NAMES[failed] ?? 'field';
  const detail = failed === 1 || failed === 2 ? ` (${endpointProblem(token, ctx.family)})` : '';
  return `bad ${name} ${JSON.stringify(token)}${detail}`;
}

/**
 * Parse one /proc/net inet socket file. Never throws.
 *
 * - The column header is recognised by its names, not its position: a file with no header but
 *   valid lines still parses; a first line that is neither a socket header nor a socket line sets
 *   `message` (and is not counted as a bad line).
 * - A malformed line is skipped and counted, keeping the raw token in the reason: too few
 *   fields, non-hex or non-decimal fields, an address of the wrong length for the family, a port
 *   above 65535. An unknown state code is not malformed: it yields state 'UNKNOWN'.
 * - The kernel ends every line with a newline and always prints fields after the inode, so a last
 *   line without a newline that ends at or before the inode was cut short: it is counted as bad
 *   rather than trusted with a possibly truncated number.
 * - Blank lines are ignored; CRLF line ends are accepted.
 */
export function parseInetSockets(
  text: string,
  proto: InetProto,
  options: InetParseOptions = {},
): ParseResult<RawInetSocket> {
  const ctx: LineContext = {
    text,
    proto,
    family: FAMILY[proto],
    le: (options.byteOrder ?? HOST_BYTE_ORDER) === 'le',
    addressCache: new Map(),
  };
  const records: RawInetSocket[] = [];
  const bad = new BadLines();
  let message: string | null = null;
  let sawFirstLine = false;

  const length = text.length;
  let pos = 0;
  while (pos < length) {
    let eol = text.indexOf('\n', pos);
    const terminated = eol >= 0;
    if (!terminated) eol = length;
    const lineStart = pos;
    pos = eol + 1;
    if (skipSpace(text, lineStart, eol) === eol) continue; // blank line

    if (!sawFirstLine) {
      sawFirstLine = true;
      if (!startsWithSlot(text, lineStart, eol)) {
        const line = text.slice(lineStart, eol);
        if (!isHeader(line)) message = `unrecognised header ${JSON.stringify(line.trim().slice(0, 120))}`;
        continue;
      }
    }

    const parsed = parseLine(ctx, lineStart, eol, terminated);
    if (typeof parsed === 'number') {
      bad.add(explain(ctx, lineStart, eol, terminated, parsed), text.slice(lineStart, eol).trim());
    } else {
      records.push(parsed);
    }
  }
  return result(records, bad, message);
}
