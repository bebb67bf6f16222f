/**
 * Reconnect delays: exponential with a cap, and jitter so a wall of dashboards does not reconnect
 * in lockstep when the agent restarts.
 */
export interface BackoffOptions {
  /** First delay, ms. */
  baseMs: number;
  /** Largest delay, ms. */
  maxMs: number;
  /** Fraction of the delay that is randomised, 0..1: the delay lies in [d·(1−jitter), d]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000, jitter: 0.5 };

/** The un-jittered delay for the attempt (0-based): base·2^attempt, capped at max. */
export function backoffCeiling(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const a = Math.max(0, Math.floor(attempt));
  // 2^a overflows to Infinity for big a; Math.min handles it.
  return Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(a, 60));
}

/** Delay before reconnect attempt `attempt` (0-based). `random` returns [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, opts);
  const jitter = Math.min(1, Math.max(0, opts.jitter));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling * (1 - jitter * r));
}
