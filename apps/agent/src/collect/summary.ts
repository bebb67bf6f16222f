/**
 * The snapshot's `socketSummary`: counts by protocol, state and family, top remote addresses,
 * local ports and processes, the listeners. Attached to every tick the agent publishes (beside
 * `alerts` and `services`), so the overview and wall pages can take `/ws?view=summary` and never
 * receive the socket list. The counts follow the sockets tick by tick (FollowedCounts); a full
 * count is 50-150 ms at 200k sockets on a busy core, done in slices.
 */
import { SummaryPass, type Snapshot, type SocketSummary } from '@netscope/shared';
import { FollowedCounts } from './followed.js';

export class SocketSummariser {
  private readonly counts = new FollowedCounts(() => new SummaryPass());
  private summary: SocketSummary | null = null;

  /** How the last attach counted: 'same' (last tick's array), 'diff' or 'full'. */
  get lastMode(): FollowedCounts<SummaryPass>['mode'] {
    return this.counts.mode;
  }

  /** Sets `snap.socketSummary` (equal to `summariseSockets(snap.sockets)`). */
  async attach(snap: Snapshot, sliceMs = 15): Promise<void> {
    const pass = await this.counts.follow(snap.sockets, sliceMs);
    // last tick's very sockets: last tick's summary
    if (this.summary === null || this.counts.mode !== 'same') this.summary = pass.finish();
    snap.socketSummary = this.summary;
  }
}
