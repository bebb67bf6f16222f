/** Types for fixture-tree.mjs (used by e2e/tests/scale.spec.ts). */
export interface FixtureTree {
  /** The temp dir holding proc/, sys/ and etc/. */
  base: string;
  /** Pass this as --proc-root. */
  proc: string;
  pairs: number;
  owners: number;
  socks: unknown[];
}
export function buildTree(opts?: { pairs?: number; dir?: string; owners?: number }): FixtureTree;
export function churn(tree: FixtureTree, share?: number): void;
export function cleanup(tree: FixtureTree): void;
