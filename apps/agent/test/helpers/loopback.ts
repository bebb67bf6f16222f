import { once } from 'node:events';
import * as net from 'node:net';

/** A listener on 127.0.0.1 of this process's own and one connection to it, both ends accepted. */
export interface LoopbackPair {
  server: net.Server;
  port: number;
  client: net.Socket;
  accepted: net.Socket;
  close(): void;
}

export async function loopbackPair(): Promise<LoopbackPair> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [sock] = await accepted;
  return {
    server,
    port,
    client,
    accepted: sock,
    close() {
      client.destroy();
      sock.destroy();
      server.close();
    },
  };
}
