/**
 * /proc/net/nf_conntrack (netstat -M's successor, `conntrack -L -o extended`): one tracked flow per
 * line, original tuple then reply tuple (net/netfilter/nf_conntrack_standalone.c ct_seq_show):
 *
 *   ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=1.2.3.4 sport=5555 dport=443 src=1.2.3.4 dst=203.0.113.5 sport=443 dport=5555 [ASSURED] mark=0 zone=0 use=2
 *   ipv4     2 udp      17 29 src=10.0.0.2 dst=8.8.8.8 sport=40000 dport=53 [UNREPLIED] src=8.8.8.8 dst=10.0.0.2 sport=53 dport=40000 mark=0 use=1
 *   ipv4     2 icmp     1 29 src=10.0.0.2 dst=8.8.8.8 type=8 code=0 id=7 src=8.8.8.8 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1
 *   ipv6     10 udp      17 20 src=2001:0db8:0000:…  (IPv6 as uncompressed %pI6)
 *
 * The timeout is left out for offloaded flows ([OFFLOAD]/[HW_OFFLOAD]); only tcp, sctp and dccp
 * print a state; accounting adds `packets= bytes=` after each tuple; `zone=`, `secctx=`,
 * `delta-time=` may appear. Keys we do not know are skipped.
 *
 * The file can hold hundreds of thousands of lines, so each line is walked once by hand (no regex,
 * no per-token strings: the tuple fields stay offsets into the line) and only the first
 * `sampleSize` entries become objects with canonical addresses. The rest are checked for shape
 * (address characters, port ranges, both tuples present) and counted; an address that has the
 * right characters but does not parse is only caught inside the sample.
 *
 * NAT: an entry is natted when its reply tuple is not the mirror of the original (reply source ≠
 * original destination, reply destination ≠ original source, or the ports/ICMP id differ).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConntrackEntry, ConntrackSummary, SourceStatus } from '@netscope/shared';
import { BadLines, type ParseResult, type ReadOutcome, type Roots, readSource, statusOf } from './source.js';
import { canonicalIp, dict } from './hexaddr.js';

interface RawTuple {
  src: string | null;
  dst: string | null;
  sport: string | null;
  dport: string | null;
  /** ICMP echo id: part of the tuple, rewritten by masquerade like a port. */
  id: string | null;
}

export interface RawConntrack {
  family: 4 | 6;
  proto: string;
  state: string | null;
  timeoutSec: number | null;
  orig: RawTuple;
  reply: RawTuple;
  natted: boolean;
}

/**
 * Offsets into the line instead of substrings: a 300k-line file must not allocate a dozen strings
 * per line. Slot order: orig src, dst, sport, dport, id, then the same for the reply.
 */
class Scan {
  family: 4 | 6 = 4;
  protoStart = 0;
  protoEnd = 0;
  stateStart = -1;
  stateEnd = -1;
  timeoutSec: number | null = null;
  readonly start = new Int32Array(10);
  readonly end = new Int32Array(10);
  natted = false;
  reset(): void {
    this.start.fill(-1);
    this.end.fill(-1);
    this.stateStart = -1;
    this.stateEnd = -1;
    this.timeoutSec = null;
  }
}

const SRC = 0;
const DST = 1;
const SPORT = 2;
const DPORT = 3;
const ID = 4;
const REPLY = 5;
/** Which tuple slot a `key=` names (src, dst, sport, dport, id), by length and characters; -1 for other keys. */
function tupleSlot(line: string, s: number, eq: number): number {
  const c0 = line.charCodeAt(s);
  switch (eq - s) {
    case 3:
      if (line.charCodeAt(s + 1) === 114 /* r */ && c0 === 115 /* s */ && line.charCodeAt(s + 2) === 99 /* c */) return SRC;
      if (line.charCodeAt(s + 1) === 115 /* s */ && c0 === 100 /* d */ && line.charCodeAt(s + 2) === 116 /* t */) return DST;
      return -1;
    case 5:
      if (line.startsWith('port', s + 1)) return c0 === 115 ? SPORT : c0 === 100 ? DPORT : -1;
      return -1;
    case 2:
      return c0 === 105 /* i */ && line.charCodeAt(s + 1) === 100 /* d */ ? ID : -1;
    default:
      return -1;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** Digits only, at most `maxLen` of them; the value, or -1. */
function digitsAt(line: string, s: number, e: number, maxLen: number): number {
  if (e <= s || e - s > maxLen) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Cheap shape check: dotted digits for IPv4, hex and colons (maybe a dotted tail) for IPv6. */
function addressShapeOk(line: string, s: number, e: number, family: 4 | 6): boolean {
  if (e - s < 2 || e - s > 45) return false;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (family === 4 ? !(digit || c === 46) : !(digit || c === 58 || c === 46 || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  return true;
}

function isStateAt(line: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57))) return false;
  }
  return e > s;
}

function regionEq(line: string, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  if (s1 < 0) return s2 < 0;
  for (let i = 0; i < e1 - s1; i++) if (line.charCodeAt(s1 + i) !== line.charCodeAt(s2 + i)) return false;
  return true;
}

const clip = (line: string, s: number, e: number): string => line.slice(s, Math.min(e, s + 60));

/** Scan one line into `sc`; null when good, else the reason. No regex, no per-token strings. */
function scanInto(line: string, sc: Scan): string | null {
  sc.reset();
  const n = line.length;
  let i = 0;
  let tok = 0;
  let srcSeen = 0;
  let base = -1; // SRC or REPLY once a tuple has started
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isSpace(line.charCodeAt(i))) i++;
    const e = i;
    switch (tok++) {
      case 0:
        if (line.startsWith('ipv4', s) && e - s === 4) sc.family = 4;
        else if (line.startsWith('ipv6', s) && e - s === 4) sc.family = 6;
        else return `bad family "${clip(line, s, e)}"`;
        continue;
      case 1:
        if (digitsAt(line, s, e, 3) < 0) return `bad l3 number "${clip(line, s, e)}"`;
        continue;
      case 2:
        sc.protoStart = s;
        sc.protoEnd = e;
        continue;
      case 3:
        if (digitsAt(line, s, e, 3) < 0 || line.lastIndexOf('=', e - 1) >= sc.protoStart) {
          return `bad protocol "${clip(line, sc.protoStart, e)}"`;
        }
        continue;
      case 4: {
        const t = digitsAt(line, s, e, 10);
        if (t >= 0) {
          sc.timeoutSec = t;
          continue;
        }
        break;
      }
      default:
        break;
    }
    // A state: the first bare word after the timeout, before any key=value.
    const eq = line.indexOf('=', s);
    const hasEq = eq >= 0 && eq < e;
    if (!hasEq) {
      if (line.charCodeAt(s) === 91 /* [ */ && line.charCodeAt(e - 1) === 93 /* ] */) continue;
      if (srcSeen === 0 && sc.stateStart < 0 && base < 0 && tok <= 6) {
        if (!isStateAt(line, s, e)) return `bad state "${clip(line, s, e)}"`;
        sc.stateStart = s;
        sc.stateEnd = e;
        continue;
      }
      return `unexpected token "${clip(line, s, e)}"`;
    }
    const slot = tupleSlot(line, s, eq);
    if (slot === SRC) {
      srcSeen++;
      if (srcSeen > 2) return 'more than two tuples';
      base = srcSeen === 1 ? 0 : REPLY;
    }
    if (base < 0 || slot < 0) continue;
    const vs = eq + 1;
    if (slot === SRC || slot === DST) {
      if (!addressShapeOk(line, vs, e, sc.family)) return `bad address "${clip(line, vs, e)}"`;
    } else {
      const v = digitsAt(line, vs, e, 5);
      if (v < 0 || v > 65535) return `bad ${line.slice(s, eq)} "${clip(line, vs, e)}"`;
    }
    sc.start[base + slot] = vs;
    sc.end[base + slot] = e;
  }
  if (tok < 6) return `${tok} fields, too few`;
  const st = sc.start;
  if (st[SRC]! < 0 || st[DST]! < 0) return 'no original tuple';
  if (st[REPLY + SRC]! < 0 || st[REPLY + DST]! < 0) return 'no reply tuple';
  if ((st[SPORT]! < 0) !== (st[DPORT]! < 0) || (st[REPLY + SPORT]! < 0) !== (st[REPLY + DPORT]! < 0)) return 'tuple with only one port';
  const en = sc.end;
  const same = (a: number, b: number): boolean => regionEq(line, st[a]!, en[a]!, st[b]!, en[b]!);
  sc.natted = !(same(REPLY + SRC, DST) && same(REPLY + DST, SRC) && same(REPLY + SPORT, DPORT) && same(REPLY + DPORT, SPORT) && same(REPLY + ID, ID));
  return null;
}

function rawOf(line: string, sc: Scan): RawConntrack {
  const val = (slot: number): string | null => (sc.start[slot]! < 0 ? null : line.slice(sc.start[slot], sc.end[slot]));
  const tuple = (b: number): RawTuple => ({ src: val(b + SRC), dst: val(b + DST), sport: val(b + SPORT), dport: val(b + DPORT), id: val(b + ID) });
  return {
    family: sc.family,
    proto: line.slice(sc.protoStart, sc.protoEnd),
    state: sc.stateStart < 0 ? null : line.slice(sc.stateStart, sc.stateEnd),
    timeoutSec: sc.timeoutSec,
    orig: tuple(0),
    reply: tuple(REPLY),
    natted: sc.natted,
  };
}

/** Split and check one line; a string is the reason it is malformed. Pure. */
export function scanConntrackLine(line: string): RawConntrack | string {
  const sc = new Scan();
  const reason = scanInto(line, sc);
  return reason ?? rawOf(line, sc);
}

const port = (p: string | null): number | null => (p === null ? null : Number(p));

/** A scanned line → the wire entry, with canonical (RFC 5952) addresses; a string when an address does not parse. */
export function conntrackEntryOf(raw: RawConntrack): ConntrackEntry | string {
  const addrs = [raw.orig.src, raw.orig.dst, raw.reply.src, raw.reply.dst].map((a) => (a === null ? null : canonicalIp(a)));
  const [src, dst, replySrc, replyDst] = addrs;
  if (src == null || dst == null || replySrc == null || replyDst == null) {
    const i = addrs.findIndex((a) => a === null);
    return `bad address "${[raw.orig.src, raw.orig.dst, raw.reply.src, raw.reply.dst][i] ?? ''}"`;
  }
  return {
    family: raw.family,
    proto: raw.proto,
    state: raw.state,
    timeoutSec: raw.timeoutSec,
    src,
    dst,
    sport: port(raw.orig.sport),
    dport: port(raw.orig.dport),
    replySrc,
    replyDst,
    replySport: port(raw.reply.sport),
    replyDport: port(raw.reply.dport),
    natted: raw.natted,
  };
}

export interface ConntrackParse extends ParseResult<ConntrackEntry> {
  /** Counts over every good line; `records` and `summary.sample` are the first `sampleSize` entries only. */
  summary: ConntrackSummary;
}

export const CONNTRACK_SAMPLE = 200;

export function parseConntrack(text: string, sampleSize: number = CONNTRACK_SAMPLE): ConntrackParse {
  const bad = new BadLines();
  const sample: ConntrackEntry[] = [];
  const byProto = dict<number>();
  const byState = dict<number>();
  let total = 0;
  let natted = 0;
  const sc = new Scan();
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0 || line.trim() === '') continue;
    const reason = scanInto(line, sc);
    if (reason !== null) {
      bad.add(reason, line);
      continue;
    }
    if (sample.length < sampleSize) {
      const entry = conntrackEntryOf(rawOf(line, sc));
      if (typeof entry === 'string') {
        bad.add(entry, line);
        continue;
      }
      sample.push(entry);
    }
    total++;
    // Only the protocol and state become strings here; tuples stay offsets.
    const proto = line.slice(sc.protoStart, sc.protoEnd);
    byProto[proto] = (byProto[proto] ?? 0) + 1;
    if (sc.stateStart >= 0) {
      const state = line.slice(sc.stateStart, sc.stateEnd);
      byState[state] = (byState[state] ?? 0) + 1;
    }
    if (sc.natted) natted++;
  }
  // A file where nothing parsed but lines were bad is malformed (statusOf looks at records).
  return {
    records: sample,
    badLines: bad.count,
    sample: bad.sample,
    message: null,
    summary: { total, byProto, byState, natted, sample },
  };
}

/**
 * null data when the file is absent (nf_conntrack not loaded) or unreadable (it is 0440 root:
 * a non-root agent cannot see it).
 */
export async function readConntrack(
  roots: Roots,
  sampleSize: number = CONNTRACK_SAMPLE,
): Promise<{ data: ConntrackSummary | null; status: SourceStatus }> {
  const started = performance.now();
  const outcome = (await emptyTable(roots)) ?? (await readSource(roots.proc, 'net/nf_conntrack'));
  const parsed = outcome.ok ? parseConntrack(outcome.text, sampleSize) : null;
  // statusOf judges "every line bad" by records; with sampleSize 0 records is always empty, so pass the total.
  const judged = parsed === null ? null : { ...parsed, records: parsed.summary.total > 0 ? [null] : [] };
  return { data: parsed?.summary ?? null, status: statusOf(outcome, judged, performance.now() - started) };
}

/**
 * The table's outcome without reading it when the kernel counts no flows (nf_conntrack_count 0) and
 * the table is there: reading an empty table still walks every bucket of the kernel's hash (~0.3 ms
 * a tick with 262,144 buckets, measured here). null: read the table.
 */
async function emptyTable(roots: Roots): Promise<ReadOutcome | null> {
  const count = await readSource(roots.proc, 'sys/net/netfilter/nf_conntrack_count');
  if (!count.ok || count.text.trim() !== '0') return null;
  const path = join(roots.proc, 'net/nf_conntrack');
  return existsSync(path) ? { ok: true, text: '', path } : null;
}
