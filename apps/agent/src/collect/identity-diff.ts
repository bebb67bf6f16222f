/**
 * Which Socket objects left and which came between two ticks' lists, by object identity.
 *
 * The collector reuses last tick's Socket objects for unchanged sockets, in the same order (and
 * never changes one it handed out), and last tick's whole array when nothing changed. So the
 * lists are walked side by side: the same object at the same place (give or take a few
 * insertions) is an unchanged socket, with no id lookup. What is left is every socket that went,
 * changed or came: `gone` (as last tick had them) and `came` (as this tick has them); a changed
 * socket is in both. Anything counted from the sockets can follow a tick by taking `gone` out and
 * putting `came` in.
 */
import type { Socket } from '@netscope/shared';
import { yieldToLoop } from '../yield.js';

export interface IdentityDiff {
  /** The lists compared: what was counted before, and what is to be counted after. */
  from: readonly Socket[];
  to: readonly Socket[];
  readonly gone: readonly Socket[];
  readonly came: readonly Socket[];
}

/** Within how many places an insertion or a removal is looked for first. */
const LOOK = 8;
/**
 * Then within how many (a burst of new connections arrives side by side in the kernel's order):
 * without this the walk lost step after a burst of more than LOOK and called every socket after it
 * changed. Bounded by a budget of such searches per walk, so a tick where every socket changed
 * costs no more than ~1M comparisons extra.
 */
const FAR = 512;
const FAR_SEARCHES = 1000;

/** Index of `x` in list[from+1 … from+look] (and below list.length), or -1. */
function ahead(list: readonly Socket[], from: number, look: number, x: Socket): number {
  const end = Math.min(list.length - 1, from + look);
  for (let k = from + 1; k <= end; k++) if (list[k] === x) return k;
  return -1;
}

/**
 * The last walk's answer: a tick's monitor, stream and paged table all ask for the same two lists
 * (the result is read, never changed, by every caller).
 */
let last: IdentityDiff | null = null;

export async function identityDiff(a: readonly Socket[], b: readonly Socket[]): Promise<IdentityDiff> {
  if (last !== null && last.from === a && last.to === b) return last;
  const d = await walk(a, b);
  last = d;
  return d;
}

async function walk(a: readonly Socket[], b: readonly Socket[]): Promise<IdentityDiff> {
  const gone: Socket[] = [];
  const came: Socket[] = [];
  if (a === b) return { from: a, to: b, gone, came };
  let i = 0;
  let j = 0;
  let steps = 0;
  let farLeft = FAR_SEARCHES;
  while (i < a.length && j < b.length) {
    if ((++steps & 0x3fff) === 0) await yieldToLoop();
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    // an insertion in next, or a removal from prev, a few places on (or, while the budget lasts, further)
    let inB = ahead(b, j, LOOK, a[i]!);
    let inA = inB < 0 ? ahead(a, i, LOOK, b[j]!) : -1;
    if (inB < 0 && inA < 0 && farLeft > 0) {
      farLeft--;
      inB = ahead(b, j, FAR, a[i]!);
      inA = ahead(a, i, FAR, b[j]!);
      // both found: the nearer one is the likelier edit
      if (inB >= 0 && inA >= 0) {
        if (inB - j <= inA - i) inA = -1;
        else inB = -1;
      }
    }
    if (inB >= 0) {
      while (j < inB) came.push(b[j++]!);
      continue;
    }
    if (inA >= 0) {
      while (i < inA) gone.push(a[i++]!);
      continue;
    }
    gone.push(a[i++]!);
    came.push(b[j++]!);
  }
  while (i < a.length) gone.push(a[i++]!);
  while (j < b.length) came.push(b[j++]!);
  return { from: a, to: b, gone, came };
}
