// A serialised snapshot (80 MB at 200k sockets) is held only while it is being written: once the
// last send of it completes, the hub forgets it and says how many bytes it let go (main.ts runs a
// full GC for big ones). Driven with a stand-in socket whose writes complete when the test says.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Snapshot } from '@netscope/shared';
import { StreamHub } from '../../src/server/stream.js';
import { inet, snapshot } from '../../../../packages/shared/test/fixtures.js';

class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  sent: Array<{ data: string | Buffer; written: (() => void) | undefined }> = [];
  send(data: string | Buffer, _opts: unknown, written?: (err?: Error) => void): void {
    this.sent.push({ data, written: written && (() => written()) });
  }
  ping(): void {}
  close(): void {}
  terminate(): void {}
  /** Complete every pending write. */
  flush(): void {
    for (const s of this.sent) {
      const w = s.written;
      s.written = undefined;
      w?.();
    }
  }
  snapshots(): Buffer[] {
    return this.sent.map((s) => s.data).filter((d): d is Buffer => Buffer.isBuffer(d) && d.toString('utf8', 0, 20).includes('"snapshot"'));
  }
}

const settle = () => new Promise((r) => setTimeout(r, 20));

function hub(current: () => Snapshot) {
  const released: number[] = [];
  const h = new StreamHub(current, { agentVersion: 't', intervalMs: 1000, heartbeatMs: 60_000, released: (n) => released.push(n) });
  return { h, released };
}

const attach = (h: StreamHub) => {
  const ws = new FakeSocket();
  h.attach(ws as unknown as WebSocket, '127.0.0.1');
  return ws;
};

/** A hub with one client `a` whose snapshot is out and not yet written. */
async function oneClient(current: () => Snapshot) {
  const { h, released } = hub(current);
  const a = attach(h);
  await settle();
  return { h, released, a };
}

describe('StreamHub lets go of a sent snapshot', () => {
  const snap1 = snapshot(1, { sockets: [inet(1000), inet(1001)] });

  it('two clients joining together share one serialisation, released once both writes are done', async () => {
    const { h, released } = hub(() => snap1);
    const a = attach(h);
    const b = attach(h);
    await settle();
    expect(a.snapshots()).toHaveLength(1);
    expect(b.snapshots()).toHaveLength(1);
    expect(a.snapshots()[0]).toBe(b.snapshots()[0]); // the same Buffer
    expect(JSON.parse(a.snapshots()[0]!.toString()).snapshot).toEqual(snap1);
    expect(released).toEqual([]);
    a.flush();
    expect(released).toEqual([]); // b's copy is still being written
    b.flush();
    expect(released).toEqual([a.snapshots()[0]!.length]);
    h.closeAll('shutdown', 'test');
  });

  it('a client joining after the writes gets a fresh serialisation of the same seq, released again', async () => {
    const { h, released, a } = await oneClient(() => snap1);
    a.flush();
    expect(released).toHaveLength(1);
    const c = attach(h);
    await settle();
    expect(c.snapshots()).toHaveLength(1);
    expect(c.snapshots()[0]).not.toBe(a.snapshots()[0]);
    expect(c.snapshots()[0]!.toString()).toBe(a.snapshots()[0]!.toString());
    c.flush();
    expect(released).toHaveLength(2);
    h.closeAll('shutdown', 'test');
  });

  it('a snapshot still being written when the next tick is published is released when its write ends', async () => {
    let current = snap1;
    const { h, released, a } = await oneClient(() => current);
    // a is still writing the seq-1 snapshot when seq 2 is published: a gets a delta, no release yet
    const snap2 = snapshot(2, { sockets: [inet(1000), inet(1002)] });
    current = snap2;
    await h.publish(snap2, snap1);
    expect(released).toEqual([]);
    expect(JSON.parse(a.sent.at(-1)!.data.toString()).type).toBe('delta');
    a.flush();
    expect(released).toEqual([a.snapshots()[0]!.length]);
    h.closeAll('shutdown', 'test');
  });

  it('a write that fails (socket closing) still completes the send', async () => {
    const { h, released, a } = await oneClient(() => snap1);
    a.readyState = WebSocket.CLOSING;
    a.flush(); // ws calls back with an error for writes it could not make
    expect(released).toHaveLength(1);
    h.closeAll('shutdown', 'test');
  });
});
