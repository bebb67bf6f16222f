/**
 * `--once`'s output: the snapshot as one line of JSON, the very text `JSON.stringify` gives for the
 * snapshot with its deferred TCP records built as Socket objects (test/unit/once-json.test.ts
 * holds the two equal on a live collection), written as it is made.
 *
 * Every section but `sockets` is JSON.stringify's; the sockets it holds are too, one at a time;
 * the deferred records (collectOnce) are written by InetJson straight from the kernel's bytes.
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
      inet!.write(out, list.raw(k));
    },
  );
  out.text(']');
}
