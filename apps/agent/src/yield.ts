/** Give the event loop a turn (HTTP, /ws) between slices of long work. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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

  /** Yield when due. */
  async check(): Promise<void> {
    if (this.due()) await this.yield();
  }

  /** `fn` for each item in order, yielding when due (asked every 4096 items). */
  async each<T>(items: ArrayLike<T>, fn: (item: T) => void): Promise<void> {
    for (let i = 0; i < items.length; i++) {
      if ((i & 4095) === 4095) await this.check();
      fn(items[i]!);
    }
  }
}
