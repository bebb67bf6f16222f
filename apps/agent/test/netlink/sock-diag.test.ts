// DiagReader on the live kernel: dumps on the worker thread (whose buffers go back and forth between
// the threads) give the same sockets as dumps on this thread, dump after dump.
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiagReader, estimateDumpBytes } from '../../src/netlink/sock-diag.js';
import { parseInetDiag } from '../../src/netlink/inet-diag.js';

const held: net.Socket[] = [];
let server: net.Server;
let port = 0;
const onThread = new DiagReader(Infinity);
const onWorker = new DiagReader(-1); // every dump after the first goes to the worker (threshold: -1 bytes)

beforeAll(async () => {
  server = net.createServer((s) => held.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
  for (let i = 0; i < 20; i++) {
    const c = net.connect({ port, host: '127.0.0.1' });
    await once(c, 'connect');
    held.push(c);
  }
  await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  server.close();
  await onWorker.close();
});

async function ours(reader: DiagReader): Promise<string[]> {
  const o = reader.dump(4);
  if (!o.ok) throw new Error(o.message);
  const batches: Uint8Array[] = [];
  for await (const b of o.batches) batches.push(b.slice()); // keep a copy: the buffers are recycled
  const p = parseInetDiag(batches, 'tcp');
  expect(p.done).toBe(true);
  expect(p.bad).toBe(0);
  return p.records
    .filter((r) => r.localAddress === '127.0.0.1' && (r.localPort === port || (r.remotePort === port && r.remoteAddress === '127.0.0.1')))
    .map((r) => `${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort} ${r.state} #${r.inode}`)
    .sort();
}

describe('DiagReader', () => {
  it('is available here (Linux with sock_diag, koffi installed)', () => {
    expect(onThread.available()).toBeNull();
  });

  it('worker-thread dumps, with recycled buffers, equal this-thread dumps', async () => {
    const want = await ours(onThread);
    expect(want.length).toBe(41); // the listener and 20 pairs
    for (let i = 0; i < 6; i++) expect(await ours(onWorker)).toEqual(want);
  });
});

describe('estimateDumpBytes', () => {
  it('sizes the first dump from sockstat, 0 when it cannot tell', () => {
    const v4 = 'sockets: used 412\nTCP: inuse 201055 orphan 0 tw 19946 alloc 201060 mem 217\nUDP: inuse 500 mem 2\n';
    expect(estimateDumpBytes(4, () => v4)).toBe((201055 + 19946) * 124);
    expect(estimateDumpBytes(6, () => 'TCP6: inuse 12\nUDP6: inuse 3\n')).toBe(12 * 124);
    expect(estimateDumpBytes(4, () => 'garbage')).toBe(0);
    expect(
      estimateDumpBytes(4, () => {
        throw new Error('ENOENT');
      }),
    ).toBe(0);
    expect(estimateDumpBytes(4)).toBeGreaterThan(0); // this machine has TCP sockets (the ones above)
  });
});
