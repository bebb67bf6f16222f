/**
 * The pieces of one read a worker thread hands over (table text, sock_diag batches), queued as
 * they arrive and iterated in order. Several can arrive before the reader of the first resumes;
 * none may be lost. `end(error)` finishes early (the thread died, or the read failed).
 */
export class PieceQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private finished = false;
  private wake: (() => void) | null = null;
  /** Why the read ended early, null when it did not. */
  error: string | null = null;

  push(item: T, last: boolean): void {
    this.items.push(item);
    if (last) this.finished = true;
    this.wake?.();
    this.wake = null;
  }

  end(error: string | null = null): void {
    this.error ??= error;
    this.finished = true;
    this.wake?.();
    this.wake = null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
