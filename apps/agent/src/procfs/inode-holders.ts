/**
 * Socket inode → its holders (pid, fd), built once from a full fd walk's typed arrays and only
 * read: open addressing over typed arrays, each inode's holders chained in (pid, fd) order. A
 * one-shot collection (`--once`) looks each socket up once and keeps nothing: at 100k pairs a
 * Map<number, OwnerRef[]> of 200k one-element arrays cost ~175 ms to build on the main thread,
 * plus its garbage. A running agent's owner cache still gets a Map (it edits its holders).
 */
import type { OwnerRef } from './owners.js';

/** What an owner lookup needs of an inode index: a Map<number, OwnerRef[]> is one too. */
export interface HolderIndex {
  get(inode: number): readonly OwnerRef[] | undefined;
}

export class InodeHolders implements HolderIndex {
  /** Slot → inode (0: empty; inode 0 is no socket's and never added). */
  private readonly keys: Float64Array;
  /** Slot → the first holder's index. */
  private readonly heads: Int32Array;
  private readonly pids: Int32Array;
  private readonly fds: Int32Array;
  /** Holder index → the next holder of the same inode, or -1. */
  private readonly next: Int32Array;
  private readonly mask: number;
  private count = 0;
  /** Distinct inodes. */
  size = 0;

  constructor(capacity: number) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.heads = new Int32Array(n);
    this.mask = n - 1;
    const m = Math.max(1, capacity);
    this.pids = new Int32Array(m);
    this.fds = new Int32Array(m);
    this.next = new Int32Array(m);
  }

  /** Fibonacci hashing of the inode's low and high 32 bits. */
  private slot(inode: number): number {
    const h = Math.imul(inode >>> 0, 0x9e3779b1) ^ Math.imul((inode / 0x100000000) >>> 0, 0x85ebca6b);
    return (h >>> 0) & this.mask;
  }

  /** Add one holder (at most `capacity` in all); a pid's fd once. Inode 0 is ignored. */
  add(inode: number, pid: number, fd: number): void {
    if (inode === 0) return;
    if (this.count === this.pids.length) throw new RangeError(`InodeHolders: more than ${this.pids.length} holders`);
    const ref = this.count++;
    this.pids[ref] = pid;
    this.fds[ref] = fd;
    this.next[ref] = -1;
    for (let i = this.slot(inode); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === 0) {
        this.keys[i] = inode;
        this.heads[i] = ref;
        this.size++;
        return;
      }
      if (k !== inode) continue;
      // keep the chain in (pid, fd) order, as a walk in pid order lists them
      let prev = -1;
      let at = this.heads[i]!;
      while (at !== -1 && (this.pids[at]! < pid || (this.pids[at] === pid && this.fds[at]! < fd))) {
        prev = at;
        at = this.next[at]!;
      }
      this.next[ref] = at;
      if (prev === -1) this.heads[i] = ref;
      else this.next[prev] = ref;
      return;
    }
  }

  private find(inode: number): number {
    if (inode === 0) return -1;
    for (let i = this.slot(inode); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === 0) return -1;
      if (k === inode) return this.heads[i]!;
    }
  }

  has(inode: number): boolean {
    return this.find(inode) !== -1;
  }

  /**
   * The first holder of an inode (-1: none), to read with holderPid/holderFd and step through with
   * nextHolder: get() without the array it builds (a one-shot's JSON writer asks once per socket).
   */
  firstHolder(inode: number): number {
    return this.find(inode);
  }

  holderPid(at: number): number {
    return this.pids[at]!;
  }

  holderFd(at: number): number {
    return this.fds[at]!;
  }

  nextHolder(at: number): number {
    return this.next[at]!;
  }

  /** The holders of an inode in (pid, fd) order (a new array each call), or undefined. */
  get(inode: number): OwnerRef[] | undefined {
    let at = this.find(inode);
    if (at === -1) return undefined;
    const out: OwnerRef[] = [];
    for (; at !== -1; at = this.next[at]!) out.push({ pid: this.pids[at]!, fd: this.fds[at]! });
    return out;
  }

  /** The same as a Map (what the owner cache keeps and edits). */
  toMap(): Map<number, OwnerRef[]> {
    const m = new Map<number, OwnerRef[]>();
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      if (k !== 0) m.set(k, this.get(k)!);
    }
    return m;
  }
}

/** Whether any process holds the inode: what applyOwner needs to fill an owner. */
export function isHeld(index: HolderIndex, inode: number): boolean {
  if (index instanceof InodeHolders) return index.has(inode);
  return (index.get(inode)?.length ?? 0) > 0;
}
