/**
 * The snapshot's `socketSummary`: counts by protocol, state and family, top remote addresses,
 * local ports and processes, the listeners. Attached to every tick the agent publishes (beside
 * `alerts` and `services`), so the overview and wall pages can take `/ws?view=summary` and never
 * receive the socket list. One pass over the sockets (~20 ms at 200k); skipped when the socket
 * list is the very array of the previous tick.
 */
import { summariseSockets, type Snapshot, type SocketSummary } from '@netscope/shared';

export class SocketSummariser {
  private last: { sockets: Snapshot['sockets']; summary: SocketSummary } | null = null;

  /** Sets `snap.socketSummary`. */
  attach(snap: Snapshot): void {
    const last = this.last;
    const summary = last !== null && last.sockets === snap.sockets ? last.summary : summariseSockets(snap.sockets);
    this.last = { sockets: snap.sockets, summary };
    snap.socketSummary = summary;
  }
}
