/**
 * /proc/net/unix: one unix domain socket per line, pure parser.
 *
 * Kernel format (net/unix/af_unix.c unix_seq_show):
 *
 *   "%pK: %08X %08X %08X %04X %02X %5lu"   Num RefCount Protocol Flags Type St Inode
 *   then, only when the socket is bound, ' ' and the name, then '\n'.
 *
 * The name is printed byte by byte with no quoting, so it may hold spaces (kept exactly, leading
 * and trailing ones too). An abstract name (sun_path[0] == '\0') is printed with a leading '@',
 * and the kernel prints every other NUL inside a name as '@' as well. A name holding a newline
 * cannot be told apart from two lines: its tail shows up as a malformed line.
 */
import type { UnixState, UnixType } from '@netscope/shared';
import { BadLines, result, type ParseResult } from './source.js';
import { fieldEndsAt, scanDec, scanHex, scanned, skipSpace, tokens } from './scan.js';

export interface RawUnixSocket {
  refCount: number;
  flags: number;
  /** flags & __SO_ACCEPTCON (0x10000): a listening socket, netstat's `[ ACC ]`. */
  acceptCon: boolean;
  typeCode: number;
  type: UnixType;
  stateCode: number;
  /** LISTENING is an UNCONNECTED socket with acceptCon, as netstat -x shows it. */
  state: UnixState;
  inode: number;
  /** The bound name, `@`-prefixed when abstract; null when unbound. */
  path: string | null;
  abstract: boolean;
}

/** __SO_ACCEPTCON in include/linux/net.h */
const SO_ACCEPTCON = 0x10000;

const UNIX_TYPES: Readonly<Record<number, UnixType>> = {
  1: 'STREAM',
  2: 'DGRAM',
  3: 'RAW',
  4: 'RDM',
  5: 'SEQPACKET',
};

/** socket_state in include/uapi/linux/net.h (SS_FREE … SS_DISCONNECTING). */
const UNIX_STATES: readonly UnixState[] = ['FREE', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];
const SS_UNCONNECTED = 1;

/** Num RefCount Protocol Flags Type St Inode */
const REQUIRED_FIELDS = 7;
const FIELD_NAMES = ['num', 'refcount', 'protocol', 'flags', 'type', 'state', 'inode'] as const;

/** The `Num` column: a kernel pointer (%pK, 16 hex digits on 64-bit, zeros when hidden) and ':'. */
function scanNum(text: string, from: number, end: number): number {
  const i = scanHex(text, skipSpace(text, from, end), end, 32);
  return i >= 0 && text.charCodeAt(i) === 58 ? i + 1 : -1;
}

function isHeader(line: string): boolean {
  const t = line.trim().split(/\s+/);
  return t[0] === 'Num' && t[1] === 'RefCount' && t[2] === 'Protocol';
}

/** Parse text[start, end): a record, or the index of the field that is wrong. */
function parseLine(text: string, start: number, end: number): RawUnixSocket | number {
  let i = scanNum(text, start, end);
  if (!fieldEndsAt(text, i, end)) return 0;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 1;
  const refCount = scanned;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 2; // Protocol: always 0, checked only for shape

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 3;
  const flags = scanned;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 4;
  const typeCode = scanned;

  i = scanHex(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 5;
  const stateCode = scanned;

  // Inode is `%5lu`: right-aligned, so any padding comes before the digits, never after.
  i = scanDec(text, skipSpace(text, i, end), end);
  if (!fieldEndsAt(text, i, end)) return 6;
  const inode = scanned;

  // The name is everything after the one separator that follows the inode.
  const path = i + 1 < end ? text.slice(i + 1, end) : null;

  const acceptCon = (flags & SO_ACCEPTCON) !== 0; // & keeps the low 32 bits, where the flag lives
  const state: UnixState =
    stateCode === SS_UNCONNECTED && acceptCon ? 'LISTENING' : (UNIX_STATES[stateCode] ?? 'UNKNOWN');
  return {
    refCount,
    flags,
    acceptCon,
    typeCode,
    type: UNIX_TYPES[typeCode] ?? 'UNKNOWN',
    stateCode,
    state,
    inode,
    path,
    abstract: path !== null && path.charCodeAt(0) === 64, // '@'
  };
}

function explain(text: string, start: number, end: number, failed: number): string {
  const t = tokens(text, start, end, REQUIRED_FIELDS);
  if (t.length < REQUIRED_FIELDS) return `too few fields (${t.length} of ${REQUIRED_FIELDS})`;
  return `bad ${FIELD_NAMES[failed] ?? 'field'} ${JSON.stringify(t[failed] ?? '')}`;
}

/**
 * Parse /proc/net/unix. Never throws.
 *
 * - The `Num RefCount Protocol …` header is recognised by its names: a file with no header but
 *   valid lines still parses; any other first line sets `message`.
 * - A malformed line is skipped and counted with the raw token in the reason. Unknown type or
 *   state codes are not malformed: they yield 'UNKNOWN'.
 * - The name is the last thing on a line and may end in spaces, so a last line without its
 *   newline may have lost part of its name or inode: it is counted as bad, not trusted. (The kernel
 *   ends every line with '\n'.)
 * - CRLF files (recognised by the first line) have the CR removed from every line; in an LF file a
 *   trailing CR belongs to the name.
 */
export function parseUnixSockets(text: string): ParseResult<RawUnixSocket> {
  const records: RawUnixSocket[] = [];
  const bad = new BadLines();
  let message: string | null = null;
  let sawFirstLine = false;
  let crlf = false;

  const length = text.length;
  let pos = 0;
  while (pos < length) {
    let eol = text.indexOf('\n', pos);
    const terminated = eol >= 0;
    if (!terminated) eol = length;
    const lineStart = pos;
    pos = eol + 1;
    if (!sawFirstLine && terminated && eol > lineStart && text.charCodeAt(eol - 1) === 13) crlf = true;
    const end = crlf && eol > lineStart && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    if (skipSpace(text, lineStart, end) === end) continue; // blank line

    if (!sawFirstLine) {
      sawFirstLine = true;
      if (scanNum(text, lineStart, end) < 0) {
        const line = text.slice(lineStart, end);
        if (!isHeader(line)) message = `unrecognised header ${JSON.stringify(line.trim().slice(0, 120))}`;
        continue;
      }
    }

    if (!terminated) {
      bad.add('truncated last line (no newline)', text.slice(lineStart, end));
      continue;
    }
    const parsed = parseLine(text, lineStart, end);
    if (typeof parsed === 'number') bad.add(explain(text, lineStart, end, parsed), text.slice(lineStart, end));
    else records.push(parsed);
  }
  return result(records, bad, message);
}
