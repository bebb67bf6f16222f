/** Where the agent keeps its data by default (no I/O here: config.ts stays pure). */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_STATE_HOME/netscope, else ~/.local/state/netscope (XDG base directory spec). Never inside the repo. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_STATE_HOME;
  // The spec says relative paths are invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'netscope');
  return join(home, '.local', 'state', 'netscope');
}
