/**
 * A WebSocket client on a bare TCP socket: the handshake by hand, a minimal frame reader, and the
 * one thing a library client will not do on request — stop reading. `pause()` stops reading the
 * socket, so the kernel buffers fill and the agent's send buffer is what grows: a slow consumer.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { ServerMessage } from '@netscope/shared';

export class RawWsClient {
  readonly messages: ServerMessage[] = [];
  bytesRead = 0;
  closed = false;
  private buf = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private pending = 0;
  /** Bytes needed before the next frame can be read. */
  private needed = 0;
  private upgraded = false;

  private constructor(readonly socket: Socket) {}

  /** Connect and complete the upgrade (101), or reject with the status line. */
  /** false: read everything but never answer a ping (a peer that is alive to TCP, dead to us). */
  autoPong = true;
  closedAt: number | null = null;

  static connect(port: number, opts: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
      const client = new RawWsClient(socket);
      const key = randomBytes(16).toString('base64');
      const extra = Object.entries(opts.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.once('connect', () =>
        socket.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
        ),
      );
      socket.on('data', (chunk: Buffer) => {
        client.bytesRead += chunk.length;
        client.chunks.push(chunk);
        client.pending += chunk.length;
        // Multi-MB frames arrive in 64 KiB chunks: join only once the frame is complete.
        if (client.pending < client.needed) return;
        client.buf = Buffer.concat(client.chunks);
        client.chunks = [client.buf];
        if (!client.upgraded) {
          const end = client.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = client.buf.subarray(0, end).toString('latin1');
          if (!/^HTTP\/1\.1 101 /.test(head)) {
            reject(new Error(head.split('\r\n')[0]));
            socket.destroy();
            return;
          }
          client.upgraded = true;
          client.buf = client.buf.subarray(end + 4);
          resolve(client);
        }
        client.readFrames();
        client.chunks = [client.buf];
        client.pending = client.buf.length;
      });
      socket.on('close', () => {
        client.closed = true;
        client.closedAt ??= Date.now();
      });
      socket.on('error', (err) => {
        client.closed = true;
        if (!client.upgraded) reject(err);
      });
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Send a masked text frame (clients must mask). */
  sendText(text: string): void {
    this.sendFrame(0x1, Buffer.from(text));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const len = payload.length;
    const head =
      len < 126
        ? Buffer.from([0x80 | opcode, 0x80 | len])
        : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
    if (!this.socket.destroyed) this.socket.write(Buffer.concat([head, mask, body]));
  }

  private readFrames(): void {
    this.needed = 0;
    for (;;) {
      this.needed = 2;
      if (this.buf.length < 2) return;
      const opcode = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        this.needed = 4;
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        this.needed = 10;
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        offset = 10;
      }
      this.needed = offset + len;
      if (this.buf.length < offset + len) return;
      const payload = this.buf.subarray(offset, offset + len);
      this.buf = this.buf.subarray(offset + len);
      if (opcode === 0x1) this.messages.push(JSON.parse(payload.toString('utf8')) as ServerMessage);
      else if (opcode === 0x9 && this.autoPong) this.sendFrame(0xa, Buffer.from(payload)); // ping → pong
      else if (opcode === 0x8) this.closed = true;
    }
  }
}
