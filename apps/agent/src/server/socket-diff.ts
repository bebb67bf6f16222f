/**
 * The socket half of a tick's diff, cheap at 200k sockets (see socketChanges).
 */
import { sameSocket, type Socket } from '@netscope/shared';
import { yieldToLoop } from '../yield.js';
import { identityDiff } from '../collect/identity-diff.js';

/** Sockets compared per event-loop turn. */
const SLICE = 5000;

export interface SocketChanges {
  added: Socket[];
  changed: Socket[];
  /** As last seen in the earlier list. */
  removed: Socket[];
}

/**
 * Which sockets appeared, changed (sameSocket false) and went between two ticks' lists, a slice per
 * event-loop turn. Used by the stream's deltas and by the paged table's change marks.
 *
 * The identity walk (identityDiff) leaves only the objects that differ; only those go through a
 * map by id (at 200k sockets, building that map for every socket was ~150 ms and 10 MB of garbage
 * per tick).
 */
export async function socketChanges(a: readonly Socket[], b: readonly Socket[]): Promise<SocketChanges> {
  if (a === b) return { added: [], changed: [], removed: [] };
  const { gone: restPrev, came: restNext } = await identityDiff(a, b);
  await yieldToLoop();

  const prevById = new Map<string, Socket>();
  for (const s of restPrev) prevById.set(s.id, s);
  const added: Socket[] = [];
  const changed: Socket[] = [];
  for (let at = 0; at < restNext.length; at += SLICE) {
    if (at > 0) await yieldToLoop();
    const end = Math.min(restNext.length, at + SLICE);
    for (let n = at; n < end; n++) {
      const s = restNext[n]!;
      const old = prevById.get(s.id);
      if (old === undefined) added.push(s);
      else {
        if (!sameSocket(old, s)) changed.push(s);
        prevById.delete(s.id);
      }
    }
  }
  return { added, changed, removed: [...prevById.values()] };
}
