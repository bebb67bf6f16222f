/** WebSocket attempts against the agent with exactly the headers an attacker would choose. */
import WebSocket from 'ws';
import type { ServerMessage } from '@netscope/shared';

export interface WsAttempt {
  /** 101 when upgraded, else the HTTP status of the refusal (0: connection failed). */
  status: number;
  ws: WebSocket | null;
  /** Messages received so far (parsed), in order. */
  messages: ServerMessage[];
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
}

export interface WsOptions {
  host?: string;
  origin?: string;
  headers?: Record<string, string>;
  localAddress?: string;
  path?: string;
}

export function wsAttempt(port: number, opts: WsOptions = {}): Promise<WsAttempt> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.host !== undefined) headers.host = opts.host;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/ws'}`, {
      headers,
      ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
      localAddress: opts.localAddress,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
    });
    const messages: ServerMessage[] = [];
    let resolveClosed: (code: number) => void = () => {};
    const closed = new Promise<number>((r) => (resolveClosed = r));
    ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as ServerMessage));
    ws.on('close', (code) => resolveClosed(code));
    ws.once('upgrade', () => resolve({ status: 101, ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, ws: null, messages, closed });
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => {
      resolve({ status: 0, ws: null, messages, closed });
      resolveClosed(1006);
    });
  });
}

/** Wait until `pred` holds for the messages received, or fail after `ms`. */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
