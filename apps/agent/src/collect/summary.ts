/**
 * The snapshot's `socketSummary`: counts by protocol, state and family, top remote addresses,
 * local ports and processes, the listeners. Attached to every tick the agent publishes (beside
 * `alerts` and `services`), so the overview and wall pages can take `/ws?view=summary` and never
 * receive the socket list. One pass over the sockets (50-150 ms at 200k on a busy core, so it is
 * fed in slices); skipped when the socket list is the very array of the previous tick.
 */
import { SummaryPass, type Snapshot, type SocketSummary } from '@netscope/shared';
import { Slice } from '../yield.js';

export class SocketSummariser {
  private last: { sockets: Snapshot['sockets']; summary: SocketSummary } | null = null;

  /** Sets `snap.socketSummary` (the same object as `summariseSockets(snap.sockets)` would give). */
  async attach(snap: Snapshot, sliceMs = 15): Promise<void> {
    const last = this.last;
    let summary: SocketSummary;
    if (last !== null && last.sockets === snap.sockets) summary = last.summary;
    else {
      const pass = new SummaryPass();
      const slice = new Slice(sliceMs);
      const sockets = snap.sockets;
      for (let i = 0; i < sockets.length; i++) {
        if ((i & 4095) === 4095) await slice.check();
        pass.add(sockets[i]!);
      }
      summary = pass.finish();
    }
    this.last = { sockets: snap.sockets, summary };
    snap.socketSummary = summary;
  }
}
