/**
 * Write a big string to a file descriptor as UTF-8 through one reused buffer, synchronously.
 *
 * `--once` prints the snapshot as one JSON text: 78 MB at 100k pairs. `process.stdout.write(text)`
 * encodes it into a fresh 78 MB Buffer first: 106-130 ms there, mostly the kernel handing out and
 * zeroing the new pages, against 12-25 ms to encode the same text 1 MB at a time into one buffer
 * (TextEncoder.encodeInto; measured in one node process, 3 rounds each).
 */
import { writeSync } from 'node:fs';

const EAGAIN_WAIT_MS = 5;

export interface WriteTextOptions {
  /** UTF-16 units encoded per write (tests make it small to hit every boundary). */
  chunkUnits?: number;
  /** The write call (tests): bytes written, as fs.writeSync. */
  write?: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
}

/**
 * Write all of `text` to `fd`. A pair of UTF-16 surrogates is never split between two chunks; a
 * lone one is written as U+FFFD, as Buffer.from does. Throws what the write throws (EPIPE: the
 * reader left); waits and retries while a non-blocking descriptor is full (EAGAIN).
 */
export function writeTextSync(fd: number, text: string, opts: WriteTextOptions = {}): void {
  const units = Math.max(2, opts.chunkUnits ?? 1 << 20);
  const write = opts.write ?? writeSync;
  // 3 bytes per UTF-16 unit at most (a surrogate pair: 4 bytes for 2 units); no bigger than the text needs
  const buf = new Uint8Array(Math.min(units, text.length) * 3);
  const encoder = new TextEncoder();
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let pos = 0; pos < text.length; ) {
    let end = Math.min(text.length, pos + units);
    // a high surrogate at the end of the chunk goes with its low one into the next
    if (end < text.length && end - pos > 1) {
      const last = text.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff) end--;
    }
    const { read, written } = encoder.encodeInto(text.slice(pos, end), buf);
    pos += read;
    writeAllSync(fd, buf, written, write, sleeper);
  }
}

/** Write the first `length` bytes of `buf`, retrying short writes and a full non-blocking descriptor. */
function writeAllSync(
  fd: number,
  buf: Uint8Array,
  length: number,
  write: NonNullable<WriteTextOptions['write']>,
  sleeper = new Int32Array(new SharedArrayBuffer(4)),
): void {
  for (let off = 0; off < length; ) {
    try {
      off += write(fd, buf, off, length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, EAGAIN_WAIT_MS);
    }
  }
}

/**
 * An output buffer of bytes that code writes into by hand (`buf[pos++] = …`) and that goes to `fd`
 * whenever a writer asks for more room than is left. The writer must call `room(n)` before writing
 * up to n bytes, and `flush()` at the end.
 */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  private readonly encoder = new TextEncoder();
  private readonly write: NonNullable<WriteTextOptions['write']>;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly fd: number,
    size = 1 << 20,
    opts: Pick<WriteTextOptions, 'write'> = {},
  ) {
    this.buf = new Uint8Array(Math.max(64, size));
    this.write = opts.write ?? writeSync;
  }

  /** Make room for `n` more bytes: flush, and grow the buffer if one piece is bigger than it. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }

  flush(): void {
    if (this.pos > 0) writeAllSync(this.fd, this.buf, this.pos, this.write, this.sleeper);
    this.pos = 0;
  }

  /** Any text, as UTF-8 (a long one goes out in chunks through writeTextSync). */
  text(text: string): void {
    if (text.length * 3 <= this.buf.length - this.pos) {
      this.pos += this.encoder.encodeInto(text, this.buf.subarray(this.pos)).written;
      return;
    }
    this.flush();
    writeTextSync(this.fd, text, { write: this.write });
  }
}
