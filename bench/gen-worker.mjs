#!/usr/bin/env node
// One socket-generator worker: holds real loopback TCP pairs (and, as the "extras" worker, sockets in
// TIME_WAIT, CLOSE_WAIT/FIN_WAIT2, LISTEN and UDP), prints one JSON line when ready, then holds them
// until stdin closes or SIGTERM. Loopback only; every count is bounded by its arguments.
//
//   node gen-worker.mjs pairs <count> <sourceAddress> <listenerPorts>
//   node gen-worker.mjs extras <timeWait> <closeWait> <udp> <sourceAddress>
//
// Stdin commands (one per line) while holding pairs:
//   churn <n>   close n held pairs and open n new ones (sockets turn over like a busy server)
//
// One process holds at most ~2 fds per pair: the runner keeps pairs per worker under the fd limit.
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const MAX_PAIRS = 9500; // 2 fds each, under the 20000 fd hard limit with room for node itself
const BATCH = 400; // connects in flight at once
const [mode, ...args] = process.argv.slice(2);

const servers = [];
const pairs = []; // [client, accepted]
const extras = [];

function loopback(addr) {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addr)) throw new Error(`not a loopback IPv4 address: ${addr}`);
  return addr;
}

async function listen(port, allowHalfOpen = false) {
  const server = net.createServer({ allowHalfOpen });
  server.setMaxListeners(0); // churn rounds may overlap, each listening for its connections
  server.maxConnections = MAX_PAIRS * 2;
  server.listen({ port, host: '127.0.0.1', backlog: 4096 });
  await once(server, 'listening');
  servers.push(server);
  return server;
}

/**
 * Source ports are picked here, not by the kernel. bind(address, 0) searches its half of the
 * ephemeral range (32768-60999 here) and checks each taken port's owners on every address: with
 * ~10k pairs per source address plus the TIME_WAIT that churn leaves, that search is nearly the
 * whole half per connect. At 100k pairs and 1% churn a second it kept both cores busy in the
 * kernel (load average 15), so the churn phase measured the generator, not the agent. Ports go
 * round 10000-65535 in turn, skipping the ones this worker holds: a port comes back after 55k
 * connects (minutes at the bench's churn), long after its 60 s TIME_WAIT.
 */
const PORT_LO = 10000;
const PORT_HI = 65535;
const heldPorts = new Set();
let nextPort = PORT_LO;
function takePort() {
  for (let i = 0; i <= PORT_HI - PORT_LO; i++) {
    const p = nextPort;
    nextPort = p === PORT_HI ? PORT_LO : p + 1;
    if (!heldPorts.has(p)) {
      heldPorts.add(p);
      return p;
    }
  }
  throw new Error('no free source port');
}

/** Open one pair's client end on a source port of ours (the next one if something else has it). */
function openPair(server, localAddress, tries = 20) {
  const port = server.address().port;
  return new Promise((resolve, reject) => {
    const localPort = takePort();
    const client = net.connect({ port, host: '127.0.0.1', localAddress, localPort, allowHalfOpen: true });
    client.once('close', () => heldPorts.delete(localPort));
    client.on('error', (err) => {
      // a port some other socket holds (a wildcard listener, an older run's TIME_WAIT): take the next
      if (tries > 1 && (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL')) resolve(openPair(server, localAddress, tries - 1));
      else reject(err);
    });
    client.once('connect', () => {
      client.removeAllListeners('error');
      client.on('error', () => {});
      resolve(client);
    });
  });
}

/** Accepted sockets arrive in connect order per listener; we only need to hold them. */
function holdAccepted(server, sink) {
  server.on('connection', (s) => {
    s.on('error', () => {});
    sink.push(s);
  });
}

async function openPairs(n, localAddress, ports) {
  const accepted = [];
  const listeners = [];
  for (const p of ports) {
    const s = await listen(p);
    holdAccepted(s, accepted);
    listeners.push(s);
  }
  const clients = [];
  for (let i = 0; i < n; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(openPair(listeners[j % listeners.length], localAddress));
    clients.push(...(await Promise.all(batch)));
  }
  // wait (bounded) for the accept side to catch up
  for (let tries = 0; accepted.length < clients.length && tries < 200; tries++) await new Promise((r) => setTimeout(r, 25));
  for (let i = 0; i < clients.length; i++) pairs.push([clients[i], accepted[i]]);
  return listeners;
}

function report(obj) {
  process.stdout.write(JSON.stringify({ pid: process.pid, ...obj }) + '\n');
}

function shutdown() {
  // RST instead of FIN: the bench must not leave 100k TIME_WAIT sockets behind for the next scale.
  for (const [c, a] of pairs) {
    c?.resetAndDestroy();
    a?.resetAndDestroy();
  }
  for (const x of extras) (x.destroy ?? x.close).call(x);
  for (const s of servers) s.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (mode === 'pairs') {
  const n = Math.min(Number(args[0]), MAX_PAIRS);
  const localAddress = loopback(args[1]);
  const ports = String(args[2] ?? '0').split(',').map(Number);
  const listeners = await openPairs(n, localAddress, ports);
  report({ ready: true, mode, pairs: pairs.length, localAddress, ports: listeners.map((s) => s.address().port) });

  let rr = 0;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd !== 'churn') return;
    const k = Math.min(Number(arg) || 0, pairs.length);
    // close k pairs (the client closes first → client TIME_WAIT for 60 s on this source address) …
    for (let i = 0; i < k; i++) {
      const [c, a] = pairs.shift();
      c.destroy();
      a?.destroy();
    }
    // … and open k new ones
    const accepted = [];
    const l = listeners[rr++ % listeners.length];
    const onConn = (s) => accepted.push(s);
    l.on('connection', onConn);
    const opened = [];
    for (let i = 0; i < k; i++) opened.push(openPair(l, localAddress));
    Promise.allSettled(opened).then(async (rs) => {
      for (let tries = 0; accepted.length < k && tries < 40; tries++) await new Promise((r) => setTimeout(r, 25));
      l.removeListener('connection', onConn);
      rs.forEach((r, i) => r.status === 'fulfilled' && pairs.push([r.value, accepted[i]]));
      report({ churned: k, pairs: pairs.length });
    });
  });
  rl.on('close', shutdown);
} else if (mode === 'extras') {
  const [tw, cw, udp] = args.slice(0, 3).map((x) => Math.min(Number(x), 3000));
  const localAddress = loopback(args[3]);
  // TIME_WAIT: the client closes first; its side lingers in TIME_WAIT (inode 0, no owner) for 60 s.
  const twServer = await listen(0);
  holdAccepted(twServer, extras);
  for (let i = 0; i < tw; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(tw, i + BATCH); j++) batch.push(openPair(twServer, localAddress));
    for (const c of await Promise.all(batch)) c.destroy();
  }
  // CLOSE_WAIT: the client sends FIN; the server (allowHalfOpen) never closes → server CLOSE_WAIT, client FIN_WAIT2.
  const cwServer = await listen(0, true);
  holdAccepted(cwServer, extras);
  for (let i = 0; i < cw; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(cw, i + BATCH); j++) batch.push(openPair(cwServer, localAddress));
    for (const c of await Promise.all(batch)) {
      extras.push(c);
      c.end();
    }
  }
  // UDP: bound, unconnected sockets.
  for (let i = 0; i < udp; i++) {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    extras.push(s);
  }
  report({ ready: true, mode, timeWait: tw, closeWait: cw, udp });
  createInterface({ input: process.stdin }).on('close', shutdown);
} else {
  process.stderr.write('usage: gen-worker.mjs pairs <n> <127.x.y.z> <ports> | extras <tw> <cw> <udp> <127.x.y.z>\n');
  process.exit(2);
}
