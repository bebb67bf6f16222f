/**
 * NETLINK_SOCK_DIAG inet dumps (what `ss` reads): the request, and a pure parser of the kernel's
 * replies into the same RawInetSocket records the /proc/net/tcp parser makes.
 *
 * Why: the kernel prints /proc/net/tcp one 4 KiB page per read(2), formatting every socket with
 * sprintf; at 200k sockets that alone costs about what `ss -tan` costs. The sock_diag dump hands the
 * same fields over as fixed binary records (struct inet_diag_msg, 72 bytes) in 32 KiB batches.
 *
 * Reply layout (include/uapi/linux/netlink.h, inet_diag.h), every message 4-byte aligned:
 *   nlmsghdr   0 len u32 · 4 type u16 · 6 flags u16 · 8 seq u32 · 12 pid u32
 *   inet_diag_msg (at 16)
 *             16 family u8 · 17 state u8 · 18 timer u8 · 19 retrans u8
 *             20 sport be16 · 22 dport be16 · 24 src[16] · 40 dst[16] · 56 if u32 · 60 cookie[2] u32
 *             68 expires u32 (ms) · 72 rqueue u32 · 76 wqueue u32 · 80 uid u32 · 84 inode u32
 *   then attributes (we ask for none; the kernel may add a few), covered by `len`.
 * Host-order fields are read in host order (the reply comes from the kernel we run on).
 *
 * Where the record differs from a /proc line (both are the kernel's, read differently):
 *  - LISTEN: the dump's wqueue is the backlog limit; /proc's tx_queue is 0. We keep /proc's 0 so a
 *    socket reads the same whichever source served it (`ss` shows the limit as Send-Q).
 *  - retrans: the dump carries one counter, icsk_retransmits while the retransmit timer runs and
 *    icsk_probes_out under the keepalive or zero-window probe timer; /proc prints both always. The
 *    other one reads 0 here.
 *  - expires is in ms; /proc counts clock ticks of 10 ms.
 */
import type { InetProto } from '@netscope/shared';
import { TCP_STATE_BY_CODE } from '@netscope/shared';
import type { RawInetSocket } from '../procfs/inet.js';
import { TIMER_KINDS, formatIpv6Groups } from '../procfs/inet.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;
/** The older request type: a TCP dump of both families in one walk of the kernel's hash tables. */
export const TCPDIAG_GETSOCK = 18;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;

export const NLMSG_HDRLEN = 16;
/** nlmsghdr + struct inet_diag_msg */
export const DIAG_MSG_LEN = NLMSG_HDRLEN + 72;
/** nlmsghdr + struct inet_diag_req_v2 */
export const DIAG_REQ_LEN = NLMSG_HDRLEN + 56;
/** nlmsghdr + struct inet_diag_req (the TCPDIAG_GETSOCK request) */
export const DIAG_REQ_BOTH_LEN = NLMSG_HDRLEN + 60;

/** Which sockets a dump holds: one family (SOCK_DIAG_BY_FAMILY), or both in one (TCPDIAG_GETSOCK). */
export type DiagFamily = 4 | 6 | 'both';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A zeroed dump request of `len` bytes with its netlink header filled in. */
function dumpRequest(len: number, type: number, seq: number): { buf: Uint8Array; v: DataView } {
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  v.setUint32(0, len, LITTLE_ENDIAN);
  v.setUint16(4, type, LITTLE_ENDIAN);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, LITTLE_ENDIAN);
  v.setUint32(8, seq, LITTLE_ENDIAN);
  return { buf, v };
}

/**
 * The states every dump asks for: all of them (TIME_WAIT, SYN_RECV and NEW_SYN_RECV too) but
 * TCP_BOUND_INACTIVE (13, Linux 6.5+), a pseudo-state for sockets that are bound and nothing else.
 * Those are in no table /proc/net/tcp or `ss -tan` lists (ss shows them only when asked, `-B`),
 * and asking for them makes the kernel walk its whole bind hash on every dump: with 1k loopback
 * pairs, a dump cost 2.2-2.3 ms of CPU with them and 1.85-1.88 ms without (300 dumps back to back),
 * 3.5-4.2 ms against 2.9-3.0 ms at 1 Hz. They came out as CLOSE sockets /proc never shows.
 */
export const DUMP_STATES = (0xffffffff & ~(1 << 13)) >>> 0;

/**
 * The dump request for every TCP socket of one family, every state of DUMP_STATES.
 * `states` 0 matches nothing: the kernel answers at once, which makes a cheap probe.
 */
export function inetDiagRequest(family: 4 | 6, seq = 1, states = DUMP_STATES): Uint8Array {
  const { buf, v } = dumpRequest(DIAG_REQ_LEN, SOCK_DIAG_BY_FAMILY, seq);
  buf[16] = family === 4 ? AF_INET : AF_INET6; // sdiag_family
  buf[17] = IPPROTO_TCP; // sdiag_protocol
  buf[18] = 0; // idiag_ext: no attributes asked for
  v.setUint32(20, states >>> 0, LITTLE_ENDIAN); // idiag_states bitmask (the kernel adds NEW_SYN_RECV to SYN_RECV)
  return buf;
}

/**
 * The dump request for every TCP socket of both families at once, every state of DUMP_STATES. Each
 * SOCK_DIAG_BY_FAMILY dump walks the kernel's whole established hash (IPv4 and IPv6 sockets share
 * it) and skips the other family's sockets, so two dumps walk it twice; the TCPDIAG_GETSOCK request
 * (the kernel's compatibility path, struct inet_diag_req) dumps with family AF_UNSPEC: one walk,
 * both families. At 200k IPv4 sockets the pair of dumps cost 267-281 ms of system time, the one
 * 190-214 ms; at 1k sockets the walk is mostly empty buckets, ~4 ms each.
 * Replies are the same inet_diag_msg records, with this message type.
 */
export function inetDiagBothRequest(seq = 1, states = DUMP_STATES): Uint8Array {
  const { buf, v } = dumpRequest(DIAG_REQ_BOTH_LEN, TCPDIAG_GETSOCK, seq);
  // 16 idiag_family (ignored: the kernel dumps AF_UNSPEC) · 17 src_len · 18 dst_len · 19 idiag_ext
  // · 20 struct inet_diag_sockid (48 bytes) · 68 idiag_states · 72 idiag_dbs
  v.setUint32(68, states >>> 0, LITTLE_ENDIAN);
  return buf;
}

/** The request for a dump of `family`. */
export function diagRequest(family: DiagFamily, seq = 1, states = DUMP_STATES): Uint8Array {
  return family === 'both' ? inetDiagBothRequest(seq, states) : inetDiagRequest(family, seq, states);
}

/** How a walk over one batch of replies ended. */
export interface DiagWalk {
  /** NLMSG_DONE seen: the dump is complete. */
  done: boolean;
  /** The kernel reported an error (NLMSG_ERROR, or a negative NLMSG_DONE status): its errno. */
  errno: number | null;
  /** Messages that could not be read (too short, running past the batch, wrong family). */
  bad: number;
  /** The first bad message's reason, e.g. `message 3 at byte 264: length 20 < 88`. */
  sample: string | null;
}

function u32(buf: Uint8Array, at: number): number {
  return LITTLE_ENDIAN
    ? (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0
    : ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function u16(buf: Uint8Array, at: number): number {
  return LITTLE_ENDIAN ? buf[at]! | (buf[at + 1]! << 8) : (buf[at]! << 8) | buf[at + 1]!;
}

function i32(buf: Uint8Array, at: number): number {
  return u32(buf, at) | 0;
}

/**
 * Walk the messages of one batch (whole messages, as recv(2) returns them), calling `onSocket` with
 * the offset of each well-formed inet_diag_msg of family `family` (`both`: AF_INET or AF_INET6; the
 * record's byte 16 says which). Pure; never throws.
 */
export function walkInetDiag(buf: Uint8Array, family: DiagFamily, onSocket: (offset: number) => void): DiagWalk {
  const want = family === 4 ? AF_INET : family === 6 ? AF_INET6 : -1;
  const out: DiagWalk = { done: false, errno: null, bad: 0, sample: null };
  const badAt = (index: number, at: number, reason: string): void => {
    out.bad++;
    out.sample ??= `message ${index} at byte ${at}: ${reason}`;
  };
  let off = 0;
  let index = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = u32(buf, off);
    const type = u16(buf, off + 4);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      // A length we cannot follow: the rest of the batch cannot be framed.
      badAt(index, off, len < NLMSG_HDRLEN ? `length ${len} < ${NLMSG_HDRLEN}` : `length ${len} runs past the batch (${buf.length - off} bytes left)`);
      return out;
    }
    if (type === NLMSG_DONE) {
      const status = len >= NLMSG_HDRLEN + 4 ? i32(buf, off + NLMSG_HDRLEN) : 0;
      if (status < 0) out.errno = -status;
      out.done = true;
      return out;
    }
    if (type === NLMSG_ERROR) {
      const code = len >= NLMSG_HDRLEN + 4 ? i32(buf, off + NLMSG_HDRLEN) : -5; // EIO if cut short
      // error 0 is an ACK, not an error
      if (code !== 0) {
        out.errno = -code;
        out.done = true;
        return out;
      }
    } else if (type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK) {
      const got = buf[off + 16];
      if (len < DIAG_MSG_LEN) badAt(index, off, `length ${len} < ${DIAG_MSG_LEN}`);
      else if (want < 0 ? got !== AF_INET && got !== AF_INET6 : got !== want) {
        badAt(index, off, `family ${got} in ${want < 0 ? 'an AF_INET/AF_INET6' : `an AF_${family === 4 ? 'INET' : 'INET6'}`} dump`);
      } else onSocket(off);
    } else if (type !== NLMSG_NOOP && type !== NLMSG_OVERRUN) {
      badAt(index, off, `unexpected message type ${type}`);
    }
    off += (len + 3) & ~3;
    index++;
  }
  if (off < buf.length) badAt(index, off, `${buf.length - off} trailing byte(s)`);
  return out;
}

/** Scratch for the eight 16-bit groups of an IPv6 address (single-threaded use). */
const groups = new Uint16Array(8);

/** IPv4 texts by address: a busy server talks to far fewer addresses than it has sockets. */
const v4Text = new Map<number, string>();

function address(buf: Uint8Array, at: number, family: 4 | 6): string {
  if (family === 4) {
    const key = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
    let text = v4Text.get(key);
    if (text === undefined) {
      if (v4Text.size >= 1 << 16) v4Text.clear();
      text = `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
      v4Text.set(key, text);
    }
    return text;
  }
  for (let g = 0; g < 8; g++) groups[g] = (buf[at + g * 2]! << 8) | buf[at + g * 2 + 1]!;
  return formatIpv6Groups(groups);
}

/** The RawInetSocket of the inet_diag_msg at `off` (one walkInetDiag handed out). Pure. */
export function rawInetFromDiag(buf: Uint8Array, off: number, proto: Extract<InetProto, 'tcp' | 'tcp6'>): RawInetSocket {
  const family = proto === 'tcp' ? 4 : 6;
  const stateCode = buf[off + 17]!;
  const timerCode = buf[off + 18]!;
  const retrans = buf[off + 19]!;
  const state = TCP_STATE_BY_CODE[stateCode] ?? 'UNKNOWN';
  return {
    proto,
    family,
    localAddress: address(buf, off + 24, family),
    localPort: diagLocalPortAt(buf, off),
    remoteAddress: address(buf, off + 40, family),
    remotePort: diagRemotePortAt(buf, off),
    stateCode,
    state,
    sendQ: state === 'LISTEN' ? 0 : u32(buf, off + 76),
    recvQ: u32(buf, off + 72),
    timerCode,
    timerKind: TIMER_KINDS[timerCode] ?? 'unknown',
    timerRemainingMs: timerCode === 0 ? 0 : u32(buf, off + 68),
    retransmits: timerCode === 1 ? retrans : 0,
    probes: timerCode === 2 || timerCode === 4 ? retrans : 0,
    uid: u32(buf, off + 80),
    inode: diagInodeAt(buf, off),
  };
}

/** The source port of the inet_diag_msg at `off` (idiag_sport, network order). */
export function diagLocalPortAt(buf: Uint8Array, off: number): number {
  return (buf[off + 20]! << 8) | buf[off + 21]!;
}

/** The destination port of the inet_diag_msg at `off` (idiag_dport, network order). */
export function diagRemotePortAt(buf: Uint8Array, off: number): number {
  return (buf[off + 22]! << 8) | buf[off + 23]!;
}

/** Where the netlink message at `off` ends: its length aligned to 4 (NLMSG_ALIGN), within the batch. */
export function diagMessageEnd(buf: Uint8Array, off: number): number {
  return Math.min(buf.length, off + ((u32(buf, off) + 3) & ~3));
}

/** The socket inode of the inet_diag_msg at `off`. */
export function diagInodeAt(buf: Uint8Array, off: number): number {
  return u32(buf, off + 84);
}

/**
 * Why a dump read to its end is not a whole one: the kernel's error, or no NLMSG_DONE after
 * `batches` batches; null when it is whole.
 */
export function dumpProblem(done: boolean, errno: number | null, batches: number): string | null {
  if (errno !== null) return `the kernel ended the sock_diag dump with errno ${errno}`;
  if (!done) return `the sock_diag dump ended without NLMSG_DONE after ${batches} batch(es)`;
  return null;
}

/** The proto of the record at `off` of a dump of both families. */
export function diagProtoAt(buf: Uint8Array, off: number): 'tcp' | 'tcp6' {
  return buf[off + 16] === AF_INET6 ? 'tcp6' : 'tcp';
}

/** Every socket of a whole dump (batches in order), for one-shot use and tests. Pure. */
export function parseInetDiag(
  batches: readonly Uint8Array[],
  proto: Extract<InetProto, 'tcp' | 'tcp6'> | 'both',
): { records: RawInetSocket[]; done: boolean; errno: number | null; bad: number; sample: string | null } {
  const family: DiagFamily = proto === 'both' ? 'both' : proto === 'tcp' ? 4 : 6;
  const records: RawInetSocket[] = [];
  let bad = 0;
  let sample: string | null = null;
  for (const batch of batches) {
    const walk = walkInetDiag(batch, family, (off) => records.push(rawInetFromDiag(batch, off, proto === 'both' ? diagProtoAt(batch, off) : proto)));
    bad += walk.bad;
    sample ??= walk.sample;
    if (walk.done) return { records, done: true, errno: walk.errno, bad, sample };
  }
  return { records, done: false, errno: null, bad, sample };
}
