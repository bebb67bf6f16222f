/**
 * Per-tick aggregates that get expensive (a flood with 200k distinct peers) must not eat the main
 * thread. `adaptive` recomputes on every new version while the work is cheap, and when it is not,
 * at most once per `ratio`× its own cost, so it never takes more than ~1/ratio of the time. The
 * caller shows `stale` (skipped ticks) so a throttled number is never passed off as current.
 */
export interface Adaptive<T> {
  value: T;
  /** Ticks since the value was computed. */
  skipped: number;
  /** Cost of the last computation, ms. */
  costMs: number;
}

export function adaptive<T>(
  fn: () => T,
  opts: { budgetMs?: number; ratio?: number; now?: () => number } = {},
): (version: number) => Adaptive<T> {
  const budget = opts.budgetMs ?? 40;
  const ratio = opts.ratio ?? 8;
  const now = opts.now ?? (() => performance.now());
  let last: Adaptive<T> | null = null;
  let lastVersion = -1;
  let lastAt = 0;
  return (version) => {
    if (last && version === lastVersion) return last;
    const t = now();
    if (last && last.costMs > budget && t - lastAt < last.costMs * ratio) {
      last = { ...last, skipped: last.skipped + 1 };
      lastVersion = version;
      return last;
    }
    const value = fn();
    const done = now();
    last = { value, skipped: 0, costMs: done - t };
    lastVersion = version;
    lastAt = done;
    return last;
  };
}
