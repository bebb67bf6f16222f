/**
 * TCP sockets from sock_diag dumps, with reuse: the same idea as inet-cache.ts for /proc lines. A
 * record whose fields (all 72 bytes of struct inet_diag_msg but the timer's `expires`) equal last
 * tick's record of the same socket cookie describes the same socket in the same state, so last
 * tick's Socket object is reused: no decoding, no allocation, and the delta's `sameSocket`
 * short-circuits on `===`.
 *
 * A record is reused only when everything else that feeds its Socket is unchanged too (owner,
 * passwd/services maps) and its timer is off, or runs and its expiry estimate is within
 * TIMER_JITTER_MS of last tick's (what buildInetSocket would keep). Every other record is decoded
 * with rawInetFromDiag + buildInetSocket, exactly as a cold collection does, in dump order, so the
 * result is identical (tested against a cold collector).
 *
 * Last tick's dump is kept as bytes, and this tick's records are first compared with it RUN at a
 * time, as bytes (one memcmp): an unchanged table dumps to the same bytes, netlink headers and
 * attributes included, so a run that compares equal is taken whole, each record last tick's socket
 * with no field decoded; a run that differs goes record by record as above.
 */
import type { InetSocket } from '@netscope/shared';
import { sameSocket } from '@netscope/shared';
import { diagMessageEnd, diagProtoAt, dumpProblem, walkInetDiag, rawInetFromDiag, type DiagFamily } from '../netlink/inet-diag.js';
import { BadLines, result } from '../procfs/source.js';
import type { OwnerRef } from '../procfs/owners.js';
import { TIMER_JITTER_MS, buildInetSocket, type NameMaps, type OwnerLookup } from './sockets.js';
import { sameOwner, type InetTableResult } from './inet-cache.js';
import { Slice } from '../yield.js';

/** 32-bit words of one inet_diag_msg (bytes 16..88 of its netlink message). */
const WORDS = 18;
/** Word index (within the inet_diag_msg) of `idiag_expires` (ignored: it counts down) and of the two cookie words. */
const EXPIRES = 13;
const COOKIE_LO = 11;
const COOKIE_HI = 12;
/** How many of last tick's records after the expected one are tried before a record counts as new. */
const LOOKAHEAD = 64;
/**
 * Records compared at once as bytes against last tick's (one native memcmp): a run that dumps to
 * the same bytes is the same sockets, to be reused without looking at each record.
 */
const RUN = 32;
/** holdersIfSame's answer for a record whose owners changed. */
const CHANGED = Symbol('changed');

/** The bytes of a tick's dump kept for the next: every batch end to end, and where each record starts and ends. */
class DumpBytes {
  bytes = Buffer.alloc(0);
  words = new Uint32Array(0);
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  length = 0;
  count = 0;

  clear(): void {
    this.length = 0;
    this.count = 0;
  }

  /**
   * Room for `bytes` (after clear()): sized once from what the dump is expected to take, not grown
   * by doubling while it comes in. Two of these are kept, ~25 MB each at 200k sockets: grown from
   * 64 KB, each also left its smaller copies to the GC, and the agent's peak RSS at 100k pairs went
   * from 352 to 411 MB.
   */
  reserve(bytes: number): void {
    if (this.length === 0 && bytes > this.bytes.length) this.resize(bytes);
  }

  private resize(bytes: number): void {
    // unzeroed: only the pages written count in RSS
    const bigger = Buffer.allocUnsafeSlow(bytes);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.words = new Uint32Array(bigger.buffer, bigger.byteOffset, bigger.length >> 2);
  }

  /** Append a batch; its offsets then map to `base + offset`. Returns base. */
  add(batch: Uint8Array): number {
    // batches are whole netlink messages (4-byte multiples); the base stays 4-byte aligned for `words`
    const base = (this.length + 3) & ~3;
    const need = base + batch.length;
    if (need > this.bytes.length) this.resize(Math.max(need + (need >> 3), 64 * 1024));
    this.bytes.set(batch, base);
    this.length = base + batch.length;
    return base;
  }

  /** Record `count` starts at `start`, ends at `end` (its aligned length). */
  note(start: number, end: number): void {
    const i = this.count++;
    if (i === this.starts.length) {
      const n = Math.max(1024, i + (i >> 2));
      const s = new Int32Array(n);
      s.set(this.starts);
      this.starts = s;
      const e = new Int32Array(n);
      e.set(this.ends);
      this.ends = e;
    }
    this.starts[i] = start;
    this.ends[i] = end;
  }
}

export type DiagTableResult = (InetTableResult & { ok: true }) | { ok: false; message: string };

export class DiagTableCache {
  /** Last tick's dump, and the one of two ticks ago refilled this tick (they swap: no garbage per tick). */
  private prev = new DumpBytes();
  private cur = new DumpBytes();
  private prevSockets: (InetSocket | null)[] = [];
  /**
   * Last tick's socket of each record whose timer runs (TIME_WAIT, keepalive): rebuilt every tick
   * (its expiry estimate depends on the clock), but when the rebuilt socket equals it field by
   * field the old object is kept, so an unchanged table gives the very same objects.
   */
  private prevTimed: (InetSocket | null)[] = [];
  private prevHolders: (readonly OwnerRef[] | undefined)[] = [];
  /**
   * The three per-record arrays of two ticks ago, refilled this tick by index: pushed into new
   * arrays each tick they grew by copying, ~130 KB of garbage a tick at 1k pairs (a heap sampling
   * profile), a sixth of what the agent allocated there.
   */
  private spare: { sockets: (InetSocket | null)[]; timed: (InetSocket | null)[]; holders: (readonly OwnerRef[] | undefined)[] } = {
    sockets: [],
    timed: [],
    holders: [],
  };
  private ownersVersion = -1;
  private holdersVersion = -1;
  /** A batch's record offsets (build's scratch). */
  private readonly offsets: number[] = [];
  private names: NameMaps | null = null;
  /** Records of the last build taken whole from a run of unchanged bytes (tests and diagnostics). */
  lastRunRecords = 0;

  constructor(
    /** `both`: a two-family dump (TCPDIAG_GETSOCK); its sockets come out in dump order, tcp and tcp6 mixed. */
    readonly proto: 'tcp' | 'tcp6' | 'both',
    private readonly sliceMs = 15,
    /** Keep this tick's records for the next (false: one-shot, decode everything, keep nothing). */
    private readonly retain = true,
  ) {}

  async build(
    batches: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    now: number,
    names: NameMaps,
    owners: OwnerLookup | null,
    prevTimers: ReadonlyMap<string, number>,
    timers: Map<string, number>,
    /** OwnerCache.programsVersion; -1: unknown. */
    ownersVersion = -1,
    /** OwnerCache.holdersVersion (goes up with any change of any holder list); -1: unknown. */
    holdersVersion = -1,
    /** Bytes the dump is expected to take (DiagOutcome.expectBytes; 0: unknown). */
    expectBytes = 0,
  ): Promise<DiagTableResult> {
    const family: DiagFamily = this.proto === 'both' ? 'both' : this.proto === 'tcp' ? 4 : 6;
    const fixedProto = this.proto === 'both' ? null : this.proto;
    const retain = this.retain;
    if (names !== this.names || !retain) {
      this.prev.clear();
      this.prevSockets = [];
      this.prevTimed = [];
      this.prevHolders = [];
      this.names = names;
    }
    const prev = this.prev;
    const prevWords = prev.words;
    const prevStarts = prev.starts;
    const prevEnds = prev.ends;
    const prevBytes = prev.bytes;
    const prevSockets = this.prevSockets;
    const prevHolders = this.prevHolders;
    const prevTimed = this.prevTimed;
    // (one-shot: fresh arrays, nothing kept)
    const spare = retain ? this.spare : { sockets: [], timed: [], holders: [] };
    const timed = spare.timed;
    const prevN = prevSockets.length;
    const sameOwnersVersion = ownersVersion >= 0 && ownersVersion === this.ownersVersion;
    // No program name and no holder list changed since last tick: each reused record's holders
    // are the list it was checked against then.
    const ownersSteady = sameOwnersVersion && holdersVersion >= 0 && holdersVersion === this.holdersVersion;

    const cur = this.cur;
    cur.clear();
    if (retain) cur.reserve(Math.max(prev.length, expectBytes) + (Math.max(prev.length, expectBytes) >> 3));
    const reusable = spare.sockets;
    const holdersOf = spare.holders;
    let kept = 0;
    const sockets: InetSocket[] = [];
    const bad = new BadLines();
    let reused = 0;
    let runRecords = 0;
    let p = 0;
    let missRun = 0;
    let index: Map<number, number> | null = null;
    let done = false;
    let errno: number | null = null;
    const slice = new Slice(this.sliceMs);
    let n = 0;
    // kept between batches and ticks, refilled by index (a new one each batch grew by copying)
    const offsets = this.offsets;

    /** Word `k` of last tick's record `i`'s inet_diag_msg. */
    const prevWord = (i: number, k: number): number => prevWords[((prevStarts[i]! + 16) >> 2) + k]!;
    /** Record `i` of last tick equals the record at word `at` of this batch (but for expires). */
    const samePrev = (i: number, bw: Uint32Array, at: number): boolean => {
      const base = (prevStarts[i]! + 16) >> 2;
      if (prevWords[base + COOKIE_LO] !== bw[at + COOKIE_LO] || prevWords[base + COOKIE_HI] !== bw[at + COOKIE_HI]) return false;
      for (let k = 0; k < WORDS; k++) if (k !== EXPIRES && prevWords[base + k] !== bw[at + k]) return false;
      return true;
    };

    /**
     * This tick's socket `s`, and what the next tick compares against: a socket whose timer is off
     * is reusable as it is (with the holder list it was checked against); one whose timer runs is
     * kept for the timer check.
     */
    const keep = (s: InetSocket, timerOff: boolean, holders: readonly OwnerRef[] | undefined): void => {
      sockets.push(s);
      reusable[kept] = timerOff ? s : null;
      timed[kept] = timerOff ? null : s;
      holdersOf[kept] = holders;
      kept++;
    };

    /**
     * The holders of last tick's record `q` (its socket `old`, timer off) when its owners are
     * unchanged, else CHANGED. The owner cache replaces a holder list when it changes: the same list
     * is the same owners, and with no list changed at all (ownersSteady) each is last tick's.
     */
    const holdersIfSame = (q: number, old: InetSocket): readonly OwnerRef[] | undefined | typeof CHANGED => {
      if (ownersSteady) return prevHolders[q];
      const holders = owners === null || old.inode === 0 ? undefined : owners.byInode.get(old.inode);
      return (sameOwnersVersion && holders === prevHolders[q]) || sameOwner(old, owners) ? holders : CHANGED;
    };
    /** Last tick's record `q` is this one, and its socket `old` is taken as it is. */
    const reuse = (q: number, old: InetSocket, holders: readonly OwnerRef[] | undefined): void => {
      p = q + 1;
      missRun = 0;
      keep(old, true, holders);
      reused++;
    };

    try {
      for await (const batch of batches) {
        if (done) continue; // drain: nothing after NLMSG_DONE belongs to this dump
        // Batches start on a fresh buffer (worker transfer or our own allocation), so 4-byte aligned.
        const bw = new Uint32Array(batch.buffer, batch.byteOffset, batch.length >> 2);
        const base = retain ? cur.add(batch) : 0;
        const take = (off: number): void => {
          const at = (off + 16) >> 2;
          if (retain) {
            cur.note(base + off, base + diagMessageEnd(batch, off));
            let q = -1;
            for (let d = 0; d < LOOKAHEAD && p + d < prevN; d++) {
              if (samePrev(p + d, bw, at)) {
                q = p + d;
                break;
              }
            }
            if (q < 0 && missRun >= LOOKAHEAD) {
              if (index === null) {
                index = new Map();
                for (let i = prevN - 1; i >= p; i--) index.set(prevWord(i, COOKIE_LO) + prevWord(i, COOKIE_HI) * 4294967296, i);
              }
              const i = index.get(bw[at + COOKIE_LO]! + bw[at + COOKIE_HI]! * 4294967296);
              if (i !== undefined && i >= p && samePrev(i, bw, at)) q = i;
            }
            const old = q < 0 ? null : prevSockets[q]!;
            if (old !== null) {
              const holders = holdersIfSame(q, old);
              if (holders !== CHANGED) {
                reuse(q, old, holders);
                return;
              }
            }
            if (q >= 0) p = q + 1;
            else missRun++;
            const was = q >= 0 ? prevTimed[q] : null;
            if (was != null && sameOwner(was, owners)) {
              // A running timer (TIME_WAIT, keepalive) whose record is unchanged but for `expires`:
              // buildInetSocket would keep last tick's expiry while the new estimate is within
              // TIMER_JITTER_MS of it, and sameSocket would then hand back `was`. Same answer, no decoding.
              const kept = was.timer.expiresAt;
              if (kept !== null && Math.abs(kept - (now + bw[at + EXPIRES]!)) < TIMER_JITTER_MS && prevTimers.get(was.id) === kept) {
                timers.set(was.id, kept);
                keep(was, false, undefined);
                reused++;
                return;
              }
            }
            let s = buildInetSocket(rawInetFromDiag(batch, off, fixedProto ?? diagProtoAt(batch, off)), now, names, owners, prevTimers);
            if (was != null && sameSocket(was, s)) {
              s = was;
              reused++;
            }
            if (s.timer.expiresAt !== null) timers.set(s.id, s.timer.expiresAt);
            const timerOff = s.timer.code === 0;
            keep(s, timerOff, timerOff && owners !== null && s.inode !== 0 ? owners.byInode.get(s.inode) : undefined);
            return;
          }
          const s = buildInetSocket(rawInetFromDiag(batch, off, fixedProto ?? diagProtoAt(batch, off)), now, names, owners, prevTimers);
          if (s.timer.expiresAt !== null) timers.set(s.id, s.timer.expiresAt);
          sockets.push(s);
        };
        /**
         * Records j..j+count-1 of this batch are byte for byte last tick's p..p+count-1 (headers,
         * inet_diag_msg, attributes): each whose timer is off and whose owner is unchanged is last
         * tick's object, with no field looked at; any other goes through `take` (expected at p).
         */
        const takeRun = (j: number, count: number): void => {
          for (let i = 0; i < count; i++) {
            const q = p;
            const old = prevSockets[q];
            if (old !== null && old !== undefined) {
              const holders = holdersIfSame(q, old);
              if (holders !== CHANGED) {
                const off = offsets[j + i]!;
                cur.note(base + off, base + diagMessageEnd(batch, off));
                reuse(q, old, holders);
                runRecords++;
                continue;
              }
            }
            take(offsets[j + i]!);
          }
        };
        // The batch's records first, then taken with a clock check every 256: a 1 MB batch is
        // ~10k records, and under churn most of them are new sockets to build (tens of ms, more
        // when the machine's cores are busy): HTTP gets a turn within a batch, not only between.
        let found = 0;
        const walk = walkInetDiag(batch, family, (off) => {
          offsets[found++] = off;
        });
        offsets.length = found;
        if (!retain) await slice.each(offsets, take);
        else {
          const batchBytes = Buffer.from(batch.buffer, batch.byteOffset, batch.length);
          let since = 0;
          for (let j = 0; j < found; ) {
            const count = Math.min(RUN, found - j, prevN - p);
            if (count > 0) {
              const a0 = offsets[j]!;
              const a1 = diagMessageEnd(batch, offsets[j + count - 1]!);
              const b0 = prevStarts[p]!;
              const b1 = prevEnds[p + count - 1]!;
              if (a1 - a0 === b1 - b0 && batchBytes.compare(prevBytes, b0, b1, a0, a1) === 0) takeRun(j, count);
              else for (let i = 0; i < count; i++) take(offsets[j + i]!);
            } else take(offsets[j]!);
            const step = Math.max(1, count);
            j += step;
            since += step;
            if (since >= 256) {
              since = 0;
              await slice.check();
            }
          }
        }
        bad.count += walk.bad;
        bad.sample ??= walk.sample;
        if (walk.done) {
          done = true;
          errno = walk.errno;
        }
        n++;
        await slice.check();
      }
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
    const problem = dumpProblem(done, errno, n);
    if (problem !== null) return { ok: false, message: problem };
    this.lastRunRecords = runRecords;
    if (retain) {
      this.cur = prev;
      this.prev = cur;
      // last tick's arrays become the spares; this tick's are cut to what it filled
      reusable.length = timed.length = holdersOf.length = kept;
      this.spare = { sockets: this.prevSockets, timed: this.prevTimed, holders: this.prevHolders };
      this.prevSockets = reusable;
      this.prevTimed = timed;
      this.prevHolders = holdersOf;
      this.ownersVersion = ownersVersion;
      this.holdersVersion = holdersVersion;
    }
    return { ok: true, sockets, parse: result(sockets, bad, null), reused };
  }
}
