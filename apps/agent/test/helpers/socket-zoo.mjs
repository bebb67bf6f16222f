#!/usr/bin/env node
// Opens one real loopback socket in each interesting state, prints what it opened as one JSON line
// on stdout, then holds everything until stdin closes or SIGTERM. Loopback only; bounded.
// Used by the integration tests and e2e to compare netscope with ss/netstat on live kernel state.
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';

const held = [];
const hold = (x) => (held.push(x), x);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function listen(host, opts = {}) {
  const server = hold(net.createServer(opts, (s) => hold(s)));
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

async function connect(port, host) {
  const c = hold(net.connect({ port, host, allowHalfOpen: true }));
  await once(c, 'connect');
  return c;
}

async function accepted(server) {
  const [s] = await once(server, 'connection');
  return s;
}

const extra = Number(process.argv[2] ?? 0); // extra ESTABLISHED pairs, for scale tests

const listen4 = await listen('127.0.0.1');
const listen6 = await listen('::1');
const p4 = listen4.address().port;
const p6 = listen6.address().port;

// ESTABLISHED v4 and v6
const estabAccepted4 = accepted(listen4);
const est4 = await connect(p4, '127.0.0.1');
await estabAccepted4;
const estabAccepted6 = accepted(listen6);
const est6 = await connect(p6, '::1');
await estabAccepted6;

// v4-mapped: an IPv6 socket bound to ::ffff:127.0.0.1, reached over IPv4 (tcp6 rows with mapped addresses).
const listenMapped = await listen('::ffff:127.0.0.1');
const pMapped = listenMapped.address().port;
const mappedAccepted = accepted(listenMapped);
const mappedClient = await connect(pMapped, '127.0.0.1');
await mappedAccepted;

// CLOSE_WAIT (server side) + FIN_WAIT2 (client side): the client half-closes, the server never does.
const halfServer = await listen('127.0.0.1', { allowHalfOpen: true });
const pHalf = halfServer.address().port;
const halfAccepted = accepted(halfServer);
const half = await connect(pHalf, '127.0.0.1');
const halfPeer = await halfAccepted;
halfPeer.on('end', () => {}); // read the FIN, keep our side open
half.end();

// TIME_WAIT on the client: it closes first, the server closes back.
const twServer = await listen('127.0.0.1');
const pTw = twServer.address().port;
const twAccepted = accepted(twServer);
const tw = net.connect({ port: pTw, host: '127.0.0.1' });
await once(tw, 'connect');
const twPeer = await twAccepted;
twPeer.on('end', () => twPeer.end());
const twLocalPort = tw.localPort;
tw.end();
await once(tw, 'close');

// UDP bound v4/v6 and a connected one
const udp4 = hold(dgram.createSocket('udp4'));
udp4.bind(0, '127.0.0.1');
await once(udp4, 'listening');
const udp6 = hold(dgram.createSocket({ type: 'udp6', ipv6Only: true }));
udp6.bind(0, '::1');
await once(udp6, 'listening');
const udpc = hold(dgram.createSocket('udp4'));
udpc.bind(0, '127.0.0.1');
await once(udpc, 'listening');
udpc.connect(udp4.address().port, '127.0.0.1');
await once(udpc, 'connect');

for (let i = 0; i < extra; i++) {
  const a = accepted(listen4);
  await connect(p4, '127.0.0.1');
  await a;
}

await sleep(100); // let FIN/ACK exchanges settle into their states

process.stdout.write(
  JSON.stringify({
    pid: process.pid,
    listen4: p4,
    listen6: p6,
    est4: { local: est4.localPort, remote: p4 },
    est6: { local: est6.localPort, remote: p6 },
    mapped: { listen: pMapped, client: mappedClient.localPort },
    finWait2: { local: half.localPort, remote: pHalf },
    closeWait: { local: pHalf, remote: half.localPort },
    timeWait: { local: twLocalPort, remote: pTw },
    udp4: udp4.address().port,
    udp6: udp6.address().port,
    udpConnected: { local: udpc.address().port, remote: udp4.address().port },
    ports: [p4, p6, pMapped, pHalf, pTw, udp4.address().port, udp6.address().port, udpc.address().port],
  }) + '\n',
);

const bye = () => {
  for (const h of held) {
    try {
      (h.destroy ?? h.close).call(h);
    } catch {}
  }
  process.exit(0);
};
process.stdin.on('end', bye);
process.stdin.on('close', bye);
process.stdin.resume();
process.on('SIGTERM', bye);
setTimeout(bye, 10 * 60 * 1000).unref(); // never outlive a stuck test run
