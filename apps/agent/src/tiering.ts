/**
 * V8's tier-up budget for the running agent. V8 optimizes a function (TurboFan, on its worker
 * threads) once it has run about three "interrupt budgets" of bytecode (67,584 bytes each by
 * default). At 1 Hz most of the agent's code runs once a tick: a function reaches that threshold
 * after tens or hundreds of ticks, so compiles trickle on for minutes. With 1,000 loopback pairs,
 * `--trace-opt` counted ~0.7 compiles a second still between 60 and 170 s after start, 516 ms of
 * compile time in those 110 s (0.47% of one core), and a CPU profile 100 s in put 19% of the
 * agent's samples in the compiler.
 *
 * A budget of INTERRUPT_BUDGET bytes leaves once-a-tick code in V8's baseline tier, where it costs
 * little (it runs little), while per-socket code, which runs its bytecode once per socket each
 * tick, still reaches it within a few ticks. Measured at 1k pairs (`node bench/footprint.mjs --pairs 1000 --settle 20 --window 60
 * --node-flags=--interrupt-budget=N`, CPU of one core): V8's default 1.75%, 1.77%; 500k 1.60%,
 * 1.67%; 1M 1.45%, 1.40%, 1.55%; 2M 1.70%, 1.72%; 4M 1.68%, 1.65%; 16M 1.80% (with larger budgets
 * the main thread pays more than the compiler threads save).
 *
 * Only on a machine with few sockets (under BUDGET_BELOW_SOCKETS when the agent starts), where the
 * compiler's share is what the budget saves. With many sockets per-socket code is hot in the first
 * tick whatever the budget, and the 100k figures (steady tick ≤ 1.0× `ss -tan`) were measured with
 * V8's default; the budget was not measured there. At 10k pairs (~20k sockets, V8's default here)
 * the budget gave 5.75% and 5.77% CPU against 6.22-7.75% in five runs without it, RSS 134-135 MB
 * against 107-143 MB (a single reading at 10k moves that much with where the heap is between full
 * GCs). And only for the running agent: `--once` is one cold collection, which wants hot code
 * optimized early. An `--interrupt-budget` given to node (argv or NODE_OPTIONS) wins.
 */
import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from './heap.js';

export const INTERRUPT_BUDGET = 1_000_000;

/** Whether node was given its own interrupt budget (argv or NODE_OPTIONS). */
export function interruptBudgetGiven(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return nodeFlagGiven(/^--interrupt[-_]budget(?:=|$)/, execArgv, nodeOptions);
}

/** Sockets in use (/proc/net/sockstat) at start below which the budget is raised. */
export const BUDGET_BELOW_SOCKETS = 20_000;

/** Raises the running agent's budget on a small machine unless node was given one; returns whether it did. */
export function setTierUpBudget(socketsAtStart: number, given = interruptBudgetGiven(), setFlags: (flags: string) => void = setFlagsFromString): boolean {
  if (given || socketsAtStart >= BUDGET_BELOW_SOCKETS) return false;
  setFlags(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  return true;
}
