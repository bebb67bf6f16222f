/** Give the event loop a turn (HTTP, /ws) between slices of long work. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Drive a generator that yields between steps of its work (sortSocketsInSteps), giving the event loop a turn at each. */
export async function runInSteps<T>(steps: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToLoop();
  }
}

/**
 * A long loop's budget: `due()` once more than `ms` passed since the last turn given to the event
 * loop; `yield()` gives one. Hot loops ask every few thousand items (`(i & 4095) === 0`), so the
 * clock costs nothing measurable.
 */
export class Slice {
  private start = performance.now();
  constructor(private readonly ms = 15) {}

  due(): boolean {
    return performance.now() - this.start > this.ms;
  }

  async yield(): Promise<void> {
    await yieldToLoop();
    this.start = performance.now();
  }

  /** Yield when due. (An async call: a loop that asks per item spares a promise each with `if (slice.due()) await slice.yield()`.) */
  async check(): Promise<void> {
    if (this.due()) await this.yield();
  }

  /**
   * `fn` for each item in order, yielding when due (asked every 256 items: a clock read is ~0.1 µs,
   * and an `fn` of a few µs, e.g. the alert measures' map updates, made 4096 items 15-20 ms of CPU
   * before the first read, several times that on a loaded machine).
   */
  async each<T>(items: ArrayLike<T>, fn: (item: T) => void): Promise<void> {
    for (let i = 0; i < items.length; i++) {
      if ((i & 255) === 255 && this.due()) await this.yield();
      fn(items[i]!);
    }
  }
}
