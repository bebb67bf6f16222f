/**
 * Vitest global setup: build the agent once (esbuild, about a second) so the security suites
 * attack the real dist/main.js a user runs, never a stale one. A build failure is passed to the
 * suites that need the binary (they fail saying why) instead of failing every other test file.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when apps/agent/dist/main.js was built from the current sources. */
    agentBuildError: string | null;
  }
}

export default function setup(project: TestProject): void {
  const script = fileURLToPath(new URL('../../build.mjs', import.meta.url));
  try {
    execFileSync(process.execPath, [script], { stdio: 'pipe', timeout: 120_000 });
    project.provide('agentBuildError', null);
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    project.provide('agentBuildError', e.stderr?.toString().trim() || e.message);
  }
}
