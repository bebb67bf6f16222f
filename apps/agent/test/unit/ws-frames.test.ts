// The bench's wire size of each /ws message (bench/ws-frames.mjs): read off the client's socket
// frame by frame, so messages that arrive in one read still get their own sizes.
import { EventEmitter } from 'node:events';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { trackFrames } from '../../../../bench/ws-frames.mjs';

/** One frame as a server sends it (unmasked unless a mask is given). */
function frame(opcode: number, payloadLength: number, fin = true, mask = false): Buffer {
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = mask ? 0x80 : 0;
  if (payloadLength < 126) head.push(m | payloadLength);
  else if (payloadLength < 65536) head.push(m | 126, payloadLength >> 8, payloadLength & 0xff);
  else {
    head.push(m | 127);
    for (let k = 7; k >= 0; k--) head.push(Math.floor(payloadLength / 2 ** (8 * k)) & 0xff);
  }
  if (mask) head.push(1, 2, 3, 4);
  return Buffer.concat([Buffer.from(head), Buffer.alloc(payloadLength, 0x61)]);
}

describe('trackFrames', () => {
  // text 5 B; binary 300 B (16-bit length); text 70,000 B (64-bit length); a ping between the two
  // fragments of a text message; a masked frame; an empty message
  const frames = [
    frame(1, 5),
    frame(2, 300),
    frame(1, 70_000),
    frame(1, 10, false),
    frame(9, 4),
    frame(0, 20, true),
    frame(10, 0),
    frame(1, 7, true, true),
    frame(1, 0),
  ];
  const stream = Buffer.concat(frames);
  const expected = [2 + 5, 4 + 300, 10 + 70_000, 2 + 10 + 2 + 20, 2 + 4 + 7, 2];

  it('gives each message its frames’ bytes, control frames in none, however the bytes are split', () => {
    // every split of the stream in two, then random reads of 1-4000 bytes
    for (let at = 0; at <= stream.length; at += at < 400 ? 1 : 997) {
      const socket = new EventEmitter();
      const sizes: number[] = [];
      trackFrames(socket, sizes);
      socket.emit('data', stream.subarray(0, at));
      socket.emit('data', stream.subarray(at));
      expect(sizes, `split at ${at}`).toEqual(expected);
    }
    for (let run = 0; run < 50; run++) {
      const socket = new EventEmitter();
      const sizes: number[] = [];
      trackFrames(socket, sizes);
      for (let i = 0; i < stream.length; ) {
        const n = 1 + Math.floor(Math.random() * 4000);
        socket.emit('data', stream.subarray(i, i + n));
        i += n;
      }
      expect(sizes).toEqual(expected);
    }
  });

  it('on a live permessage-deflate connection: each message’s size is what the server wrote for it, also when several arrive in one read', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    await once(wss, 'listening');
    const written: number[] = [];
    wss.on('connection', (ws) => {
      void (async () => {
        const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
        // small, large (compresses to > 64 KB), then a burst sent back to back (read together)
        const payloads = ['{"type":"hello"}', JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ i, r: Math.random() }))), ...Array.from({ length: 20 }, (_, i) => `{"n":${i}}`)];
        for (const [k, p] of payloads.entries()) {
          const before = socket.bytesWritten;
          await new Promise<void>((resolve, reject) => ws.send(p, (err) => (err ? reject(err) : resolve())));
          written.push(socket.bytesWritten - before);
          if (k === 1) await new Promise((r) => setTimeout(r, 20));
        }
      })();
    });
    const port = (wss.address() as AddressInfo).port;
    const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    const sizes: number[] = [];
    client.on('upgrade', (res) => trackFrames(res.socket, sizes));
    const got: (number | undefined)[] = [];
    await new Promise<void>((resolve) => {
      client.on('message', () => {
        got.push(sizes.shift());
        if (got.length === 22) resolve();
      });
    });
    client.close();
    wss.close();
    expect(got).toEqual(written);
    expect(got[1]!).toBeGreaterThan(65_536);
    expect(got.every((n) => n! > 2)).toBe(true);
  });
});
