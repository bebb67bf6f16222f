/**
 * A one-shot (`--once`) sock_diag dump kept as the kernel's bytes: each record is decoded when the
 * snapshot is written (InetJson, once-json.ts) and dropped, never held as a Socket object.
 * `toSockets` builds the Socket objects a collect() would have held, the same way
 * (buildInetSocket), for tests and for what needs objects.
 */
import type { InetSocket, Socket } from '@netscope/shared';
import { diagInodeAt, diagLocalPortAt, diagProtoAt, diagRemotePortAt, dumpProblem, rawInetFromDiag, walkInetDiag, type DiagFamily } from '../netlink/inet-diag.js';
import type { RawInetSocket } from '../procfs/inet.js';
import { isHeld } from '../procfs/inode-holders.js';
import { buildInetSocket, type NameMaps, type OwnerLookup } from './sockets.js';

/** The records of one proto, in dump order. */
export class DiagRecordList {
  /** Per record, two numbers: its batch's index and its offset there. */
  refs: number[] = [];

  constructor(
    readonly proto: 'tcp' | 'tcp6',
    readonly batches: readonly Uint8Array[],
  ) {}

  get length(): number {
    return this.refs.length >> 1;
  }

  raw(k: number): RawInetSocket {
    return rawInetFromDiag(this.batches[this.refs[2 * k]!]!, this.refs[2 * k + 1]!, this.proto);
  }

  inode(k: number): number {
    return diagInodeAt(this.batches[this.refs[2 * k]!]!, this.refs[2 * k + 1]!);
  }

  localPort(k: number): number {
    return diagLocalPortAt(this.batches[this.refs[2 * k]!]!, this.refs[2 * k + 1]!);
  }

  remotePort(k: number): number {
    return diagRemotePortAt(this.batches[this.refs[2 * k]!]!, this.refs[2 * k + 1]!);
  }

  /**
   * The records' JSON up to their owners, written ahead (once-json.ts prerender): record k's bytes
   * end at ends[k] and start where record k-1's end. null: not written ahead.
   */
  prefixes: { bytes: Uint8Array; ends: Int32Array } | null = null;

  /** Keep only the records `keep` says yes to, in order. */
  filter(keep: (k: number) => boolean): void {
    const refs = this.refs;
    let w = 0;
    for (let k = 0; k < refs.length >> 1; k++) {
      if (!keep(k)) continue;
      refs[2 * w] = refs[2 * k]!;
      refs[2 * w + 1] = refs[2 * k + 1]!;
      w++;
    }
    refs.length = 2 * w;
  }
}

export type GatheredDump =
  | { ok: true; lists: ReadonlyMap<'tcp' | 'tcp6', DiagRecordList>; badLines: number; sample: string | null }
  | { ok: false; message: string };

/**
 * Read a whole dump, keeping its batches and the place of each record by proto (a dump of both
 * families mixes them). Fails, as DiagTableCache.build does, when the dump is cut short or the
 * kernel ended it with an error.
 */
export async function gatherDiag(batches: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, family: DiagFamily): Promise<GatheredDump> {
  const kept: Uint8Array[] = [];
  const v4 = new DiagRecordList('tcp', kept);
  const v6 = new DiagRecordList('tcp6', kept);
  let badLines = 0;
  let sample: string | null = null;
  let done = false;
  let errno: number | null = null;
  let n = 0;
  try {
    for await (const batch of batches) {
      if (done) continue; // drain: nothing after NLMSG_DONE belongs to this dump
      const b = kept.length;
      // a copy: the reader takes its buffers back once the dump is read (sock-diag.ts recycling)
      kept.push(batch.slice());
      const walk = walkInetDiag(batch, family, (off) => {
        const list = family === 4 ? v4 : family === 6 ? v6 : diagProtoAt(batch, off) === 'tcp' ? v4 : v6;
        list.refs.push(b, off);
      });
      badLines += walk.bad;
      sample ??= walk.sample;
      if (walk.done) {
        done = true;
        errno = walk.errno;
      }
      n++;
    }
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  const problem = dumpProblem(done, errno, n);
  if (problem !== null) return { ok: false, message: problem };
  const lists = new Map<'tcp' | 'tcp6', DiagRecordList>();
  if (family !== 6) lists.set('tcp', v4);
  if (family !== 4) lists.set('tcp6', v6);
  return { ok: true, lists, badLines, sample };
}

/** Records to write in place of Socket objects: each list goes before `sockets[at]` (at the end when `at` is their length). */
export interface DeferredSockets {
  segments: { at: number; list: DiagRecordList }[];
  now: number;
  names: NameMaps;
  owners: OwnerLookup | null;
}

/** The deferred records with an inode that no process holds: countUnowned (sockets.ts) for records. */
export function countUnownedRecords(deferred: DeferredSockets): number {
  const byInode = deferred.owners?.byInode;
  let n = 0;
  for (const { list } of deferred.segments) {
    for (let k = 0; k < list.length; k++) {
      const inode = list.inode(k);
      if (inode !== 0 && (byInode === undefined || !isHeld(byInode, inode))) n++;
    }
  }
  return n;
}

/** Visit the sockets and the deferred records in the order the snapshot lists them. */
export function inOrder(
  sockets: readonly Socket[],
  deferred: DeferredSockets | null,
  onSocket: (s: Socket) => void,
  onRecord: (list: DiagRecordList, k: number) => void,
): void {
  const segments = deferred?.segments ?? [];
  let j = 0;
  const segment = (): void => {
    const { list } = segments[j++]!;
    for (let k = 0; k < list.length; k++) onRecord(list, k);
  };
  for (let i = 0; i < sockets.length; i++) {
    while (j < segments.length && segments[j]!.at === i) segment();
    onSocket(sockets[i]!);
  }
  while (j < segments.length) segment();
}

/** The sockets with the deferred records built as Socket objects (buildInetSocket) where they belong. */
export function toSockets(sockets: readonly Socket[], deferred: DeferredSockets): Socket[] {
  const out: Socket[] = [];
  const built = (list: DiagRecordList, k: number): InetSocket => buildInetSocket(list.raw(k), deferred.now, deferred.names, deferred.owners, new Map());
  inOrder(sockets, deferred, (s) => out.push(s), (list, k) => out.push(built(list, k)));
  return out;
}
