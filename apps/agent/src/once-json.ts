/**
 * `--once`'s output: the snapshot as one line of JSON, the very text `JSON.stringify` gives for the
 * snapshot with its deferred TCP records built as Socket objects (test/integration/once-json.test.ts
 * holds the two equal on a live collection and on made-up dumps), written as it is made.
 *
 * Every section but `sockets` is JSON.stringify's; the sockets it holds are too, one at a time;
 * the deferred records (collectOnce) are written by InetJson straight from the kernel's bytes,
 * their first part ahead of time when `prerender` ran while the owner walk did.
 */
import type { Snapshot } from '@netscope/shared';
import { inOrder, type DeferredSockets } from './collect/diag-records.js';
import { InetJson } from './collect/inet-json.js';
import type { ByteSink } from './write-text.js';

export function writeSnapshotJson(out: ByteSink, snapshot: Snapshot, deferred: DeferredSockets | null): void {
  out.text('{');
  let firstKey = true;
  for (const [key, value] of Object.entries(snapshot)) {
    const json: string | undefined = key === 'sockets' ? '' : JSON.stringify(value);
    if (json === undefined) continue; // JSON.stringify leaves out what it cannot write (undefined)
    out.text(`${firstKey ? '' : ','}${JSON.stringify(key)}:`);
    firstKey = false;
    if (key === 'sockets') writeSockets(out, snapshot.sockets, deferred);
    else out.text(json);
  }
  out.text('}');
}

function writeSockets(out: ByteSink, sockets: Snapshot['sockets'], deferred: DeferredSockets | null): void {
  out.text('[');
  let n = 0;
  const inet = deferred === null ? null : new InetJson(deferred.now, deferred.names, deferred.owners);
  inOrder(
    sockets,
    deferred,
    (s) => out.text(`${n++ > 0 ? ',' : ''}${JSON.stringify(s)}`),
    (list, k) => {
      if (n++ > 0) {
        out.room(1);
        out.buf[out.pos++] = 0x2c;
      }
      const pre = list.prefixes;
      if (pre === null) {
        inet!.write(out, list.raw(k));
        return;
      }
      const start = k === 0 ? 0 : pre.ends[k - 1]!;
      const end = pre.ends[k]!;
      out.room(end - start);
      out.buf.set(pre.bytes.subarray(start, end), out.pos);
      out.pos += end - start;
      inet!.rest(out, list.proto, list.localPort(k), list.remotePort(k), list.inode(k));
    },
  );
  out.text(']');
}

/**
 * Write each deferred record's JSON up to its owner ahead, into one buffer per list: run while the
 * owner walk still runs (collectOnce's `whileWalking`), it leaves writeSnapshotJson, after the
 * walk, only copying those bytes and adding owners. At 50k pairs the walk outlasts the dump by
 * ~0.1 s, and the write after it was ~0.2 s of one thread with the other core idle.
 */
export function prerender(deferred: DeferredSockets): void {
  const inet = new InetJson(deferred.now, deferred.names, null);
  for (const { list } of deferred.segments) {
    let bytes = new Uint8Array(Math.max(1024, list.length * 360));
    const ends = new Int32Array(list.length);
    let p = 0;
    for (let k = 0; k < list.length; k++) {
      const r = list.raw(k);
      const room = inet.prefixRoom(r);
      if (p + room > bytes.length) {
        const bigger = new Uint8Array(Math.max(bytes.length * 2, p + room));
        bigger.set(bytes.subarray(0, p));
        bytes = bigger;
      }
      p = inet.prefix(bytes, p, r);
      ends[k] = p;
    }
    list.prefixes = { bytes, ends };
  }
}
