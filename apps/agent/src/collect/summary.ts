/**
 * The snapshot's `socketSummary`: counts by protocol, state and family, top remote addresses,
 * local ports and processes, the listeners. Attached to every tick the agent publishes (beside
 * `alerts` and `services`), so the overview and wall pages can take `/ws?view=summary` and never
 * receive the socket list.
 *
 * Counted once in full (in slices: 50-150 ms at 200k sockets on a busy core), then tick by tick
 * from what changed (identityDiff: the sockets that left out, the ones that came in), which on a
 * busy server is a few hundred sockets. A tick where most sockets changed, and every
 * RECOUNT_EVERY ticks regardless, counts in full again.
 */
import { SummaryPass, type Snapshot, type SocketSummary } from '@netscope/shared';
import { Slice } from '../yield.js';
import { identityDiff, type IdentityDiff } from './identity-diff.js';

/** Ticks between full recounts (a safety net: the counts follow the diffs exactly). */
export const RECOUNT_EVERY = 300;

export class SocketSummariser {
  private last: { sockets: Snapshot['sockets']; summary: SocketSummary; pass: SummaryPass; sinceFull: number } | null = null;
  /** How the last attach counted: 'same' (last tick's array), 'diff' or 'full'. */
  lastMode: 'same' | 'diff' | 'full' = 'full';

  /**
   * Sets `snap.socketSummary` (equal to `summariseSockets(snap.sockets)`). `diff`: identityDiff
   * from the sockets of the previous attach to these, when the caller has it already.
   */
  async attach(snap: Snapshot, sliceMs = 15, diff?: IdentityDiff): Promise<void> {
    const last = this.last;
    const sockets = snap.sockets;
    const slice = new Slice(sliceMs);
    if (last !== null && last.sockets === sockets) {
      this.lastMode = 'same';
      snap.socketSummary = last.summary;
      return;
    }
    let pass: SummaryPass;
    let sinceFull = 0;
    const given = diff !== undefined && last !== null && diff.from === last.sockets && diff.to === sockets ? diff : null;
    const d = last !== null && last.sinceFull < RECOUNT_EVERY ? (given ?? (await identityDiff(last.sockets, sockets))) : null;
    if (last !== null && d !== null && d.gone.length + d.came.length <= sockets.length / 2) {
      pass = last.pass;
      sinceFull = last.sinceFull + 1;
      for (let i = 0; i < d.gone.length; i++) {
        if ((i & 4095) === 4095) await slice.check();
        pass.remove(d.gone[i]!);
      }
      for (let i = 0; i < d.came.length; i++) {
        if ((i & 4095) === 4095) await slice.check();
        pass.add(d.came[i]!);
      }
      this.lastMode = 'diff';
    } else {
      pass = new SummaryPass();
      for (let i = 0; i < sockets.length; i++) {
        if ((i & 4095) === 4095) await slice.check();
        pass.add(sockets[i]!);
      }
      this.lastMode = 'full';
    }
    const summary = pass.finish();
    this.last = { sockets, summary, pass, sinceFull };
    snap.socketSummary = summary;
  }
}
