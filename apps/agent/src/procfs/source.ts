/**
 * The contract every /proc source module follows:
 *  - `parseX(text, ...)`: pure, never throws, never touches fs; returns records plus what it skipped.
 *  - `readX(roots, ...)`: the only I/O, one read per file, every path joined to a root.
 * A bad line is skipped and counted, keeping the first one (truncated) with its reason.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
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
 * The files of the live /proc and /sys that a tick reads (~55), kept open between ticks. A read
 * from offset 0 (pread) makes the kernel produce the text afresh, as a new open would: seq_file
 * restarts at position 0, sysctl and sysfs attributes format their value on each read (netdata
 * reads /proc this way). What it saves is the path lookup, open and close of every file, every
 * tick. Only for the kernel's own files: a regular file (a --proc-root fixture tree) replaced by a
 * new one would be read stale through the old descriptor, so those are opened anew each time.
 */
export class OpenFiles {
  private readonly fds = new Map<string, { fd: number; read: boolean; bytes: number }>();
  /** The read buffer's first size; a bigger file grows it, kept up to KEEP_BUF_BYTES. */
  static BUF_BYTES = 1 << 16;
  static KEEP_BUF_BYTES = 1 << 20;
  /**
   * A read that returns fewer bytes than asked, and fewer than this, was at the end of the file: no
   * second read to be told so. A regular file comes short only at its end; a sysctl or sysfs
   * attribute gives its whole value in one read; a seq_file (/proc/net/*) fills a buffer of at
   * least a page (4 KiB) with whole records per read and stops before that only at its end, so a
   * read short by more than any one record (a /proc/net line is under 300 bytes) is the last. The
   * read that only said "end" cost as much as the one with the text, and for /proc/net/udp{,6} it
   * walks the kernel's UDP hash table again: about half of the ~110 reads of a tick.
   */
  static SHORT_READ_BYTES = 2048;
  private buf = Buffer.allocUnsafeSlow(OpenFiles.BUF_BYTES);

  constructor(private readonly roots: readonly string[]) {}

  /** Whether files under `root` are kept open. */
  serves(root: string): boolean {
    return this.roots.includes(root);
  }

  /** The whole text of `path`; throws as readFileSync does (ENOENT, EACCES, EINVAL...). */
  read(path: string): string {
    let entry = this.fds.get(path);
    if (entry !== undefined) {
      entry.read = true;
      try {
        return this.readAll(entry);
      } catch (err) {
        // EINVAL: the attribute refuses to show a value (`speed` of a virtual interface), every time:
        // keep the descriptor. Anything else (ENODEV: the interface went away) opens the path again.
        if ((err as NodeJS.ErrnoException).code === 'EINVAL') throw err;
        this.forget(path);
      }
    }
    const fd = openSync(path, 'r');
    entry = { fd, read: true, bytes: 0 };
    this.fds.set(path, entry);
    return this.readAll(entry);
  }

  /**
   * Each read asks for about what the file held last time, not the whole buffer: a sysctl read
   * makes the kernel allocate and zero as many bytes as asked for (55-85 µs a file when asked for
   * 1 MB, 3-9 µs for 4 KiB, measured here).
   */
  private readAll(entry: { fd: number; bytes: number }): string {
    let buf = this.buf;
    let n = 0;
    let want = Math.max(4096, entry.bytes + 4096);
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      if (n >= want) want *= 2;
      const ask = Math.min(buf.length, want) - n;
      const r = readSync(entry.fd, buf, n, ask, n);
      if (r === 0) break;
      n += r;
      if (r < ask && r < OpenFiles.SHORT_READ_BYTES) break;
    }
    entry.bytes = n;
    if (buf !== this.buf && buf.length <= OpenFiles.KEEP_BUF_BYTES) this.buf = buf;
    return buf.toString('utf8', 0, n);
  }

  /** Close what was not read since the last sweep (an interface that went away, a source no longer read). */
  sweep(): void {
    for (const [path, entry] of this.fds) {
      if (entry.read) entry.read = false;
      else this.forget(path);
    }
  }

  /** The descriptor kept for `path` (tests). */
  fdOf(path: string): number | undefined {
    return this.fds.get(path)?.fd;
  }

  private forget(path: string): void {
    const entry = this.fds.get(path);
    if (entry === undefined) return;
    this.fds.delete(path);
    try {
      closeSync(entry.fd);
    } catch {
      /* already closed */
    }
  }

  close(): void {
    for (const path of [...this.fds.keys()]) this.forget(path);
  }
}

let openFiles: OpenFiles | null = null;

/**
 * Keep the files of these roots open from now on (the live agent: /proc and /sys); null: open
 * every file anew (the default). Returns the set in use, whose sweep() the collector calls after a tick.
 */
export function keepFilesOpen(roots: readonly string[] | null): OpenFiles | null {
  openFiles?.close();
  openFiles = roots === null ? null : new OpenFiles(roots);
  return openFiles;
}

/**
 * Read one file whole. ENOENT → missing, EACCES/EPERM/EISDIR/etc → unreadable; never throws.
 * Synchronous underneath: the ~50 small /proc and /sys files of a tick are microseconds each, and
 * the promise API cost four or five thread-pool round trips per file (3.4 ms of CPU a tick for 28
 * files, against 0.8 ms). Tables that can be megabytes go through TableReader's worker thread.
 * Under a root given to keepFilesOpen, the file stays open between reads (OpenFiles).
 */
export async function readSource(root: string, rel: string): Promise<ReadOutcome> {
  return readSourceSync(root, rel);
}

/** readSource for a caller that cannot wait (the owner walk's pid check). */
export function readSourceSync(root: string, rel: string): ReadOutcome {
  const path = join(root, rel);
  try {
    const text = openFiles !== null && openFiles.serves(root) ? openFiles.read(path) : readFileSync(path, 'utf8');
    return { ok: true, text, path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, state: 'missing', message: `${path} does not exist`, path };
    return { ok: false, state: 'unreadable', message: `${path}: ${code} ${(err as Error).message}`, path };
  }
}

/** The last text of each file parsed through cachedParse, with its parse and the parse's result. */
const kept = new Map<string, { text: string; parse: (text: string) => unknown; result: unknown }>();
/** Files kept at most (a test run reads hundreds of fixture trees; the live agent 5 files). */
const KEPT_FILES = 64;

/**
 * `parse(text)`, or the result it gave last time for the same file, parser and text. A parser is a
 * pure function of the text, so the result is the same; handing back the same records also lets a
 * tick's diff see them unchanged by identity. For the files that seldom change: routes, IPv6
 * addresses, multicast groups. The records are shared from tick to tick: nothing may change them.
 */
export function cachedParse<T>(path: string, text: string, parse: (text: string) => T): T {
  const last = kept.get(path);
  if (last !== undefined && last.text === text && last.parse === parse) return last.result as T;
  const result = parse(text);
  kept.delete(path);
  if (kept.size >= KEPT_FILES) kept.delete(kept.keys().next().value!);
  kept.set(path, { text, parse, result });
  return result;
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

/**
 * A source's time to 0.1 ms, as /diagnostics shows it: full float precision changed every tick and
 * made the sources section of each delta a third bigger than it needs to be.
 */
export function tenthsOfMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Source status from a read outcome and (when read) a parse result. */
export function statusOf(
  outcome: ReadOutcome,
  parsed: (Pick<ParseResult<unknown>, 'badLines' | 'sample' | 'message'> & { records: { readonly length: number } }) | null,
  ms: number,
): SourceStatus {
  ms = tenthsOfMs(ms);
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
