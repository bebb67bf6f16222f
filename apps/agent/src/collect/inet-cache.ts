/**
 * Inet socket tables with reuse: a line of /proc/net/tcp that is byte-identical to last tick's
 * (ignoring the `sl` slot number, which shifts when earlier sockets come and go) describes the same
 * socket in the same state, so last tick's Socket object is reused: no parse, no allocation, and
 * the delta's `sameSocket` short-circuits on `===`.
 *
 * A line is reused only when everything else that feeds its Socket is unchanged too: the owner
 * (holders of its inode, the owner's program), the passwd/services maps (same objects), and no
 * running timer (a timer's expiry estimate depends on the clock, and its countdown changes the
 * line anyway). Every other line goes through parseInetSockets + buildInetSocket exactly as an
 * uncached collection, in file order, so the result is identical (tested against a cold collector).
 */
import type { InetProto, InetSocket } from '@netscope/shared';
import { parseInetSockets } from '../procfs/inet.js';
import { BadLines, result, type ParseResult } from '../procfs/source.js';
import { buildInetSocket, otherPidsOf, type NameMaps, type OwnerLookup } from './sockets.js';
import type { OwnerRef } from '../procfs/owners.js';
import { yieldToLoop } from '../yield.js';

export interface InetTableResult {
  sockets: InetSocket[];
  parse: ParseResult<unknown>;
  reused: number;
}

/** How many of last tick's lines after the expected one are tried before a line counts as new. */
const LOOKAHEAD = 64;

/** Miss lines parsed per parser call (between yields). */
const PARSE_CHUNK = 4096;

/**
 * A big text as pieces of whole lines of about 1 MB (slices, no copy): V8 runs the line loop
 * several times faster over 1 MB strings than over one 30 MB string (measured: 90 vs 400+ ms).
 */
function* piecesOf(text: string): Generator<string> {
  const PIECE = 1 << 20;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', Math.min(text.length - 1, pos + PIECE));
    end = end < 0 ? text.length : end + 1;
    yield text.slice(pos, end);
    pos = end;
  }
}

export function sameOwner(s: InetSocket, owners: OwnerLookup | null): boolean {
  const holders = s.inode === 0 || owners === null ? undefined : owners.byInode.get(s.inode);
  if (holders === undefined || holders.length === 0) return s.pid === null && s.otherPids === undefined;
  const first = holders[0]!;
  if (s.pid !== first.pid || s.fd !== first.fd || s.program !== owners!.programOf(first.pid)) return false;
  if (holders.length === 1) return s.otherPids === undefined;
  const others = otherPidsOf(holders) ?? [];
  const cur = s.otherPids ?? [];
  return others.length === cur.length && others.every((p, i) => p === cur[i]);
}

/** Socket cache of one inet table. */
export class InetTableCache {
  /** Last tick's lines (the text after the slot number) and, at the same index, its reusable socket. */
  private prevKeys: string[] = [];
  private prevSockets: (InetSocket | null)[] = [];
  /** The holder list each reused socket was checked against (see OwnerCache: a changed list is a new array). */
  private prevHolders: (readonly OwnerRef[] | undefined)[] = [];
  private ownersVersion = -1;
  /** This tick's reusable sockets, filled in as misses are parsed. */
  private pendingReusable: (InetSocket | null)[] = [];
  private pendingHolders: (readonly OwnerRef[] | undefined)[] = [];
  private names: NameMaps | null = null;

  constructor(
    readonly proto: InetProto,
    private readonly sliceMs = 15,
    /** Keep this tick's lines for the next (false: a one-shot collection, parsed straight through). */
    private readonly retain = true,
  ) {}

  /** One-shot: parse each piece as it comes (header in front), no bookkeeping for a next tick. */
  private async buildOnce(
    input: string | Iterable<string> | AsyncIterable<string>,
    now: number,
    names: NameMaps,
    owners: OwnerLookup | null,
    prevTimers: ReadonlyMap<string, number>,
    timers: Map<string, number>,
  ): Promise<InetTableResult> {
    const sockets: InetSocket[] = [];
    const bad = new BadLines();
    let message: string | null = null;
    let header: string | null = null;
    for await (const piece of typeof input === 'string' ? piecesOf(input) : input) {
      if (piece.length === 0) continue;
      let text = piece;
      if (header === null) {
        const nl = piece.indexOf('\n');
        header = nl < 0 ? piece : piece.slice(0, nl);
      } else {
        text = header + '\n' + piece;
      }
      const parsed = parseInetSockets(text, this.proto);
      if (text === piece) message = parsed.message;
      bad.count += parsed.badLines;
      bad.sample ??= parsed.sample;
      for (const raw of parsed.records) {
        const s = buildInetSocket(raw, now, names, owners, prevTimers);
        if (s.timer.expiresAt !== null) timers.set(s.id, s.timer.expiresAt);
        sockets.push(s);
      }
      await yieldToLoop();
    }
    return { sockets, parse: result(sockets, bad, message), reused: 0 };
  }

  async build(
    /** The table's text, whole or in pieces of whole lines (TableReader.stream). */
    input: string | Iterable<string> | AsyncIterable<string>,
    now: number,
    names: NameMaps,
    owners: OwnerLookup | null,
    prevTimers: ReadonlyMap<string, number>,
    timers: Map<string, number>,
    /** Changes whenever a process's name may have changed (OwnerCache.programsVersion); -1: unknown. */
    ownersVersion = -1,
  ): Promise<InetTableResult> {
    if (!this.retain) return this.buildOnce(input, now, names, owners, prevTimers, timers);
    if (names !== this.names) {
      this.prevHolders = [];
      this.prevKeys = [];
      this.prevSockets = [];
      this.names = names;
    }
    const prevKeys = this.prevKeys;
    const prevSockets = this.prevSockets;
    const prevN = prevKeys.length;
    // This tick's lines, for the next tick: key (the line after its slot number) and reusable socket.
    const keys: string[] = [];
    const reusable: (InetSocket | null)[] = [];
    const holdersOf: (readonly OwnerRef[] | undefined)[] = [];
    const prevHolders = this.prevHolders;
    // slots[i]: the socket of the i-th socket line, or undefined until its miss is parsed.
    const slots: (InetSocket | undefined)[] = [];
    const missSlots: number[] = [];
    const missLines: string[] = [];
    let header: string | null = null;
    let reused = 0;
    // Lines keep their order from tick to tick (hash bucket order), so the previous tick's line
    // at `p` (or a few after it) is the likely match; a long run of misses falls back to a map.
    let p = 0;
    let missRun = 0;
    let index: Map<string, number> | null = null;

    let first = true;
    let sliceStart = performance.now();
    let n = 0;
    let endsWithNewline = true;
    let empty = true;
    for await (const text of typeof input === 'string' ? piecesOf(input) : input) {
      if (text.length === 0) continue;
      empty = false;
      endsWithNewline = text.charCodeAt(text.length - 1) === 10;
      const length = text.length;
      let pos = 0;
      while (pos < length) {
        if ((++n & 1023) === 0 && performance.now() - sliceStart > this.sliceMs) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
        let eol = text.indexOf('\n', pos);
        if (eol < 0) eol = length;
        const start = pos;
        pos = eol + 1;
        if (first) {
          first = false;
          // The header (or whatever the first line is) goes to the parser, which judges it.
          header = text.slice(start, eol);
          continue;
        }
        const colon = text.indexOf(':', start);
        if (colon < 0 || colon >= eol || eol === length) {
          // Odd line (no slot, or no newline: maybe truncated): always parsed, never reused.
          keys.push('');
          reusable.push(null);
          holdersOf.push(undefined);
          missSlots.push(slots.length);
          missLines.push(text.slice(start, eol));
          slots.push(undefined);
          continue;
        }
        // (slice + === is ~8× faster in V8 than startsWith at an offset, and a key sliced from this
        // tick's text keeps only this tick's text alive, not one from many ticks ago)
        const key = text.slice(colon + 1, eol);
        let q = -1;
        for (let d = 0; d < LOOKAHEAD && p + d < prevN; d++) {
          if (prevKeys[p + d] === key) {
            q = p + d;
            break;
          }
        }
        if (q < 0 && missRun >= LOOKAHEAD) {
          if (index === null) {
            index = new Map();
            for (let i = prevN - 1; i >= p; i--) index.set(prevKeys[i]!, i);
          }
          const at = index.get(key);
          if (at !== undefined && at >= p) q = at;
        }
        keys.push(key);
        const old = q < 0 ? null : prevSockets[q]!;
        if (old !== null) {
          const holders = owners === null || old.inode === 0 ? undefined : owners.byInode.get(old.inode);
          // The owner cache replaces a holder list when it changes: the same list is the same owners.
          const same = ownersVersion >= 0 && ownersVersion === this.ownersVersion && holders === prevHolders[q] ? true : sameOwner(old, owners);
          if (same) {
            p = q + 1;
            missRun = 0;
            slots.push(old);
            reusable.push(old);
            holdersOf.push(holders);
            reused++;
            continue;
          }
        }
        if (q >= 0) p = q + 1; // same line, but its owner changed: rebuilt, still in step
        else missRun++;
        reusable.push(null); // filled in by fill() when the parse succeeds
        holdersOf.push(undefined);
        missSlots.push(slots.length);
        missLines.push(text.slice(start, eol));
        slots.push(undefined);
      }
    }
    this.pendingReusable = reusable;
    this.pendingHolders = holdersOf;

    // Parse the misses in chunks, each with the header in front so the parser judges it as it
    // would the whole file; yield between chunks so a cold 200k-line table does not stall HTTP.
    const tail = !empty && !endsWithNewline ? '' : '\n';
    const head = header === null ? '' : header + '\n';
    const bad = new BadLines();
    let message: string | null = null;
    for (let c = 0; c < missLines.length || c === 0; c += PARSE_CHUNK) {
      if (performance.now() - sliceStart > this.sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
      const part = missLines.slice(c, c + PARSE_CHUNK);
      const lastChunk = c + PARSE_CHUNK >= missLines.length;
      const parsed = parseInetSockets(head + part.join('\n') + (part.length > 0 ? (lastChunk ? tail : '\n') : ''), this.proto);
      if (c === 0) message = parsed.message;
      bad.count += parsed.badLines;
      bad.sample ??= parsed.sample;
      if (parsed.records.length === part.length) {
        parsed.records.forEach((raw, i) => this.fill(raw, c + i, missSlots, slots, now, names, owners, prevTimers));
      } else {
        // Some lines of this chunk were bad (skipped): parse them one by one to know which record is whose.
        part.forEach((line, i) => {
          const last = lastChunk && i === part.length - 1;
          const raw = parseInetSockets(line + (last ? tail : '\n'), this.proto).records[0];
          if (raw !== undefined) this.fill(raw, c + i, missSlots, slots, now, names, owners, prevTimers);
        });
      }
    }

    const sockets: InetSocket[] = [];
    for (const s of slots) {
      if (s === undefined) continue; // a bad line
      if (s.timer.expiresAt !== null) timers.set(s.id, s.timer.expiresAt);
      sockets.push(s);
    }
    this.prevKeys = keys;
    this.prevSockets = reusable;
    this.prevHolders = holdersOf;
    this.ownersVersion = ownersVersion;
    // Bad-line accounting comes from the parse of the misses (a bad line is never reused).
    return { sockets, parse: result(sockets, bad, message), reused };
  }

  /** Build the socket of a parsed miss line and put it in its place (and, when reusable, in the next tick's lines). */
  private fill(
    raw: Parameters<typeof buildInetSocket>[0],
    missIndex: number,
    missSlots: number[],
    slots: (InetSocket | undefined)[],
    now: number,
    names: NameMaps,
    owners: OwnerLookup | null,
    prevTimers: ReadonlyMap<string, number>,
  ): void {
    const s = buildInetSocket(raw, now, names, owners, prevTimers);
    const slot = missSlots[missIndex]!;
    slots[slot] = s;
    // A running timer's expiry estimate depends on the clock: such sockets are never reused.
    if (s.timer.code === 0) {
      this.pendingReusable[slot] = s;
      this.pendingHolders[slot] = owners === null || s.inode === 0 ? undefined : owners.byInode.get(s.inode);
    }
  }
}
