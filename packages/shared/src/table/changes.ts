/**
 * TCPView-style change highlighting: sockets that appeared flash one colour, sockets that went
 * away stay visible as "closed" ghosts in another, both for a few seconds. Bounded: ghosts beyond
 * `maxGhosts` (a churn storm) are dropped oldest first.
 */
import type { DeltaMessage } from '../messages.js';
import type { Snapshot, Socket } from '../schema.js';

export interface Ghost {
  socket: Socket;
  closedAt: number;
}

export class ChangeTracker {
  /** id → client ms when it appeared. */
  readonly added = new Map<string, number>();
  /** id → the socket as last seen, and when it went. */
  readonly removed = new Map<string, Ghost>();

  constructor(
    readonly holdMs = 4000,
    readonly maxGhosts = 2000,
    readonly maxAdded = 50_000,
  ) {}

  /** Record a delta against the snapshot it applied to. */
  record(delta: DeltaMessage, previous: Snapshot, now: number): void {
    const { added, removed } = delta.sockets;
    let closed: Socket[] = [];
    if (removed.length > 0) {
      const gone = new Set(removed);
      closed = previous.sockets.filter((s) => gone.has(s.id));
    }
    this.note(added, closed, now);
  }

  /** Record sockets that appeared and sockets that went (as last seen). */
  note(added: readonly Socket[], closed: readonly Socket[], now: number): void {
    for (const s of added) {
      this.added.set(s.id, now);
      this.removed.delete(s.id);
    }
    for (const s of closed) {
      this.removed.delete(s.id);
      this.removed.set(s.id, { socket: s, closedAt: now });
      this.added.delete(s.id);
    }
    this.prune(now);
  }

  prune(now: number): void {
    const cutoff = now - this.holdMs;
    // Maps iterate in insertion order, so the oldest come first.
    for (const [id, at] of this.added) {
      if (at > cutoff && this.added.size <= this.maxAdded) break;
      this.added.delete(id);
    }
    for (const [id, g] of this.removed) {
      if (g.closedAt > cutoff && this.removed.size <= this.maxGhosts) break;
      this.removed.delete(id);
    }
  }

  clear(): void {
    this.added.clear();
    this.removed.clear();
  }

  isNew(id: string, now: number): boolean {
    const at = this.added.get(id);
    return at !== undefined && now - at < this.holdMs;
  }

  ghosts(): Ghost[] {
    return [...this.removed.values()];
  }
}
