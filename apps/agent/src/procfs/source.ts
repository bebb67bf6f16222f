/**
 * The contract every /proc source module follows:
 *  - `parseX(text, ...)`: pure, never throws, never touches fs; returns records plus what it skipped.
 *  - `readX(roots, ...)`: the only I/O, one read per file, every path joined to a root.
 * A bad line is skipped and counted, keeping the first one (truncated) with its reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceState, SourceStatus } from '@netscope/shared';

export interface ParseResult<T> {
  records: T[];
  /** Lines skipped as malformed. */
  badLines: number;
  /** The first malformed line with its reason, e.g. `bad state "ZZ": 3: 0100007F:...` (≤ 200 chars). */
  sample: string | null;
  /** Whole-file problem (e.g. unrecognised header), null when none. */
  message: string | null;
}

/** Where the agent reads from. Tests and demos point these at a fixture tree. */
export interface Roots {
  /** Normally /proc */
  proc: string;
  /** Normally /sys */
  sys: string;
  /** Normally /etc (services, passwd) */
  etc: string;
}

export type ReadOutcome =
  | { ok: true; text: string; path: string }
  | { ok: false; state: Extract<SourceState, 'missing' | 'unreadable'>; message: string; path: string };

/**
 * Read one file whole. ENOENT → missing, EACCES/EPERM/EISDIR/etc → unreadable; never throws.
 * Synchronous underneath: the ~50 small /proc and /sys files of a tick are microseconds each, and
 * the promise API cost four or five thread-pool round trips per file (3.4 ms of CPU a tick for 28
 * files, against 0.8 ms). Tables that can be megabytes go through TableReader's worker thread.
 */
export async function readSource(root: string, rel: string): Promise<ReadOutcome> {
  const path = join(root, rel);
  try {
    const text = readFileSync(path, 'utf8');
    return { ok: true, text, path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, state: 'missing', message: `${path} does not exist`, path };
    return { ok: false, state: 'unreadable', message: `${path}: ${code} ${(err as Error).message}`, path };
  }
}

/** Accumulates bad lines for a ParseResult. */
export class BadLines {
  count = 0;
  sample: string | null = null;
  add(reason: string, line: string): void {
    this.count++;
    if (this.sample === null) this.sample = `${reason}: ${line}`.slice(0, 200);
  }
}

export function result<T>(records: T[], bad: BadLines, message: string | null = null): ParseResult<T> {
  return { records, badLines: bad.count, sample: bad.sample, message };
}

/** Source status from a read outcome and (when read) a parse result. */
export function statusOf(
  outcome: ReadOutcome,
  parsed: Pick<ParseResult<unknown>, 'badLines' | 'sample' | 'message' | 'records'> | null,
  ms: number,
): SourceStatus {
  // Timings to 0.1 ms, as /diagnostics shows them: full float precision changed every tick and
  // made the sources section of each delta a third bigger than it needs to be.
  ms = Math.round(ms * 10) / 10;
  if (!outcome.ok) {
    return { state: outcome.state, path: outcome.path, message: outcome.message, badLines: 0, sample: null, ms };
  }
  const p = parsed ?? { badLines: 0, sample: null, message: null, records: [] };
  // A file whose every line was bad (or whose header was wrong) is malformed; some bad lines is still ok.
  const malformed = p.message !== null || (p.badLines > 0 && p.records.length === 0);
  return {
    state: malformed ? 'malformed' : 'ok',
    path: outcome.path,
    message: p.message ?? (p.badLines > 0 ? `${p.badLines} malformed line(s) skipped` : null),
    badLines: p.badLines,
    sample: p.sample,
    ms,
  };
}

/** Parse a decimal or hex field strictly: the whole token must be digits. Returns null otherwise. */
export function parseHex(token: string | undefined): number | null {
  if (token === undefined || !/^[0-9A-Fa-f]+$/.test(token) || token.length > 13) return null;
  return parseInt(token, 16);
}

export function parseDec(token: string | undefined): number | null {
  if (token === undefined || !/^-?\d+$/.test(token) || token.length > 17) return null;
  return Number(token);
}
