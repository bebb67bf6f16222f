// The running agent raises V8's tier-up budget so once-a-tick code is not compiled by TurboFan
// minute after minute (src/tiering.ts). These check that the budget set at run time really moves
// when V8 optimizes, and that a budget given to node is left alone.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BUDGET_BELOW_SOCKETS, INTERRUPT_BUDGET, interruptBudgetGiven, setTierUpBudget } from '../../src/tiering.js';

/** A function too big for V8's "small function" shortcut, called `calls` times; --trace-opt tells whether TurboFan took it. */
const CHILD = `
const budget = process.argv[1];
if (budget !== 'default') require('node:v8').setFlagsFromString('--interrupt-budget=' + budget);
function work(n) {
  let s = 0, a = 1, b = 2, c = 3;
  for (let i = 0; i < n; i++) {
    s = (s + i * 7) % 1000003; a = (a * 31 + s) % 65521; b = (b + a * 3) % 7919; c = (c ^ b) + (a & 255);
    if (c > 100000) c = c % 997; if (s % 3 === 0) a++; else b--;
  }
  return s + a + b + c;
}
let t = 0;
for (let k = 0; k < Number(process.argv[2]); k++) t += work(20);
console.log('sum', t);
`;

function optimized(budget: string, calls: number): boolean {
  const r = spawnSync(process.execPath, ['--trace-opt', '-e', CHILD, budget, String(calls)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('sum ');
  return /marking \S+ <JSFunction work\b/.test(r.stdout);
}

describe('tier-up budget', () => {
  it("V8 optimizes the same work later under the agent's budget set at run time", () => {
    // 600 calls: well past V8's default threshold (reached by ~300 here), well short of the agent's (~3,000)
    expect(optimized('default', 600)).toBe(true);
    expect(optimized(String(INTERRUPT_BUDGET), 600)).toBe(false);
    // still optimized once it has run long enough: raised, not switched off
    expect(optimized(String(INTERRUPT_BUDGET), 20_000)).toBe(true);
  });

  it('is set on a machine with few sockets, unless node was given a budget of its own', () => {
    const set: string[] = [];
    expect(setTierUpBudget(2_000, false, (f) => set.push(f))).toBe(true);
    expect(set).toEqual([`--interrupt-budget=${INTERRUPT_BUDGET}`]);
    expect(setTierUpBudget(BUDGET_BELOW_SOCKETS - 1, false, (f) => set.push(f))).toBe(true);
    expect(set).toHaveLength(2);
    // many sockets: V8's default, with which the 100k figures were measured
    expect(setTierUpBudget(BUDGET_BELOW_SOCKETS, false, (f) => set.push(f))).toBe(false);
    expect(setTierUpBudget(200_000, false, (f) => set.push(f))).toBe(false);
    expect(setTierUpBudget(2_000, true, (f) => set.push(f))).toBe(false);
    expect(set).toHaveLength(2);
  });

  it('a budget given on the command line or in NODE_OPTIONS is noticed; other flags are not', () => {
    expect(interruptBudgetGiven(['--interrupt-budget=5000'], '')).toBe(true);
    expect(interruptBudgetGiven([], '--max-old-space-size=512 --interrupt_budget=5000')).toBe(true);
    expect(interruptBudgetGiven(['--interrupt-budget-factor-for-feedback-allocation=8'], '')).toBe(false);
    expect(interruptBudgetGiven(['--cpu-prof'], '')).toBe(false);
  });
});
