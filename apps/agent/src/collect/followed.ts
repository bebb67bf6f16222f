/**
 * Counts over a tick's sockets, kept up to date instead of recounted: counted in full once (in
 * slices), then tick by tick from what changed (identityDiff: the sockets that left out, the ones
 * that came in), which on a busy server is a few hundred of 200k. A tick where more than half the
 * sockets changed, and every RECOUNT_EVERY ticks regardless, counts in full again. The socket
 * summary and the alert measures both follow the sockets this way.
 */
import type { Socket } from '@netscope/shared';
import { Slice } from '../yield.js';
import { identityDiff } from './identity-diff.js';

/** Ticks between full recounts (a safety net: the counts follow the diffs exactly). */
export const RECOUNT_EVERY = 300;

/** Counts that a socket can be added to and taken out of (the very object that was added). */
export interface Reversible {
  add(s: Socket): void;
  remove(s: Socket): void;
}

export class FollowedCounts<C extends Reversible> {
  private last: { sockets: readonly Socket[]; counts: C; sinceFull: number } | null = null;
  /** How the last `follow` counted: 'same' (last tick's very array), 'diff' or 'full'. */
  mode: 'same' | 'diff' | 'full' = 'full';

  constructor(private readonly fresh: () => C) {}

  /** The counts of `sockets` (the same object as last time unless counted in full). */
  async follow(sockets: readonly Socket[], sliceMs = 15): Promise<C> {
    const last = this.last;
    if (last !== null && last.sockets === sockets) {
      this.mode = 'same';
      return last.counts;
    }
    const slice = new Slice(sliceMs);
    const d = last !== null && last.sinceFull < RECOUNT_EVERY ? await identityDiff(last.sockets, sockets) : null;
    if (last !== null && d !== null && d.gone.length + d.came.length <= sockets.length / 2) {
      const counts = last.counts;
      await slice.each(d.gone, (s) => counts.remove(s));
      await slice.each(d.came, (s) => counts.add(s));
      this.last = { sockets, counts, sinceFull: last.sinceFull + 1 };
      this.mode = 'diff';
      return counts;
    }
    const counts = this.fresh();
    await slice.each(sockets, (s) => counts.add(s));
    this.last = { sockets, counts, sinceFull: 0 };
    this.mode = 'full';
    return counts;
  }
}
