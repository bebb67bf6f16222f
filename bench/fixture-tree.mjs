#!/usr/bin/env node
// A /proc tree with ~2×pairs TCP sockets, for the agent's --proc-root: browser benchmarks and e2e at
// 200k sockets without opening 200k real ones. Nothing is bound; it is files in a temp dir.
//
//   node bench/fixture-tree.mjs [--pairs 100000] [--dir DIR] [--owners N]
//   → prints the proc root; run `node apps/agent/dist/main.js --proc-root DIR/proc …`
//     (sys and etc sit beside it, where the agent looks by default).
//
// The mix: ESTABLISHED loopback pairs (client 127.x.y.z:ephemeral ↔ server 127.0.0.1:listener) over
// 16 listener ports and many source addresses, ~10% of them in tcp6 (v4-mapped and ::1); 4% of the
// pairs as TIME_WAIT (kernel-held: inode 0), 0.5% as CLOSE_WAIT, a few hundred to three
// TEST-NET peers with a heavy hitter, LISTEN sockets on 0.0.0.0, 127.0.0.1 and ::. Line format and
// headers as /proc/net/tcp{,6} print them (copied from apps/agent/test/fixtures/proc/live-loopback).
// Other /proc/net files come from the debian-live fixture. `--owners N` (default 24) fake processes
// hold every socket with an inode through /proc/<pid>/fd/<n> → socket:[inode] links, with comm and
// cmdline, so the PID/Program column is filled; `--owners 0` leaves owners unknown.
//
// `churn(tree, share)` replaces a share of the ESTABLISHED pairs with new ones (new ports, new
// inodes, their fd links moved) and rewrites net/tcp{,6}: a live-looking stream for the benchmark.
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, intFlag } from './args.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIX = join(root, 'apps/agent/test/fixtures');

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     ';
const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const LISTEN_PORTS = [80, 443, 5432, 6379, 8080, 8443, 9000, 9090, 11211, 3306, 27017, 5672, 2379, 9200, 25, 22];
const UID = 1000;

const hex4 = (n) => n.toString(16).toUpperCase().padStart(4, '0');
const hex8 = (n) => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
/** a.b.c.d → the kernel's little-endian hex (127.0.0.1 → 0100007F). */
function v4hex(a, b, c, d) {
  return hex8(((d << 24) | (c << 16) | (b << 8) | a) >>> 0);
}
/** IPv4 as v4-mapped IPv6 in /proc/net/tcp6 form; `loop6` for ::1. */
function v6hex(a, b, c, d) {
  return `0000000000000000FFFF0000${v4hex(a, b, c, d)}`;
}
const LOOP6 = '00000000000000000000000001000000';
const ANY6 = '00000000000000000000000000000000';

/** One socket line, as the kernel's tcp4_seq_show / tcp6_seq_show print it (trailing fields included). */
function line(sl, local, remote, st, inode, tr = 0, when = 0) {
  const tail = inode === 0 ? ` 0 0000000000000000 0 0 0 0 0` : ` 1 000000006ad83488 20 4 30 10 -1`;
  const s = `${String(sl).padStart(4, ' ')}: ${local} ${remote} ${st} 00000000:00000000 ${tr.toString(16).padStart(2, '0')}:${hex8(when)} 00000000 ${String(inode === 0 ? 0 : UID).padStart(5, ' ')}        0 ${inode}${tail}`;
  return s;
}

/**
 * The sockets as plain records; `pairs` of them become 2 sockets (ESTABLISHED/CLOSE_WAIT pairs) or
 * 1 (TIME_WAIT: only the closing side remains).
 */
function makeSockets(pairs) {
  const socks = []; // { v6, local, remote, st, inode, tr, when }
  let inode = 1_000_000;
  const nextInode = () => ++inode;
  // listeners
  for (const [i, p] of LISTEN_PORTS.entries()) {
    const bind = i % 3 === 0 ? [0, 0, 0, 0] : [127, 0, 0, 1];
    socks.push({ v6: false, local: `${v4hex(...bind)}:${hex4(p)}`, remote: '00000000:0000', st: '0A', inode: nextInode() });
    if (i % 4 === 0) socks.push({ v6: true, local: `${ANY6}:${hex4(p)}`, remote: `${ANY6}:0000`, st: '0A', inode: nextInode() });
  }
  for (let k = 0; k < pairs; k++) socks.push(...pairSockets(k, nextInode));
  return { socks, inode };
}

/** The sockets of pair number k (deterministic; `gen` varies the client port on churn). */
function pairSockets(k, nextInode, gen = 0) {
  const port = LISTEN_PORTS[k % LISTEN_PORTS.length];
  const six = k % 10 === 9;
  // Each client address has its own ephemeral range: 127.1+(k/28000).x.y
  const slot = k % 28_000;
  const block = Math.floor(k / 28_000);
  let ephemeral = 32768 + ((slot + gen * 7919) % 28_000);
  let client;
  if (k % 997 === 5) {
    client = [198, 51, 100, 7]; // the heavy hitter, one port per pair
    ephemeral = 1024 + ((Math.floor(k / 997) + gen * 131) % 60_000);
  }
  else if (k % 331 === 3) client = [203, 0, 113, 1 + (k % 200)]; // a few hundred outside peers
  else client = [127, 1 + block, (k >> 8) & 0x3f, 1 + (k % 250)];
  const server = client[0] === 127 ? [127, 0, 0, 1] : [10, 0, 0, 2];
  const enc = six ? v6hex : v4hex;
  const sv = `${enc(...server)}:${hex4(port)}`;
  const cl = `${six && k % 20 === 19 ? LOOP6 : enc(...client)}:${hex4(ephemeral)}`;
  const r = k % 200;
  if (r < 8) {
    // TIME_WAIT: the active closer's side only, no inode. Timer off: a fixed timewait countdown in a
    // file nobody rewrites would be re-estimated every tick, and an idle tree must stream idle ticks.
    return [{ v6: six, local: cl, remote: sv, st: '06', inode: 0 }];
  }
  if (r === 8) {
    // CLOSE_WAIT on the server, FIN_WAIT2 on the client
    return [
      { v6: six, local: sv, remote: cl, st: '08', inode: nextInode() },
      { v6: six, local: cl, remote: sv, st: '05', inode: nextInode() },
    ];
  }
  return [
    { v6: six, local: cl, remote: sv, st: '01', inode: nextInode(), pair: k },
    { v6: six, local: sv, remote: cl, st: '01', inode: nextInode(), pair: k },
  ];
}

function writeTables(tree) {
  const v4 = [TCP_HEADER];
  const v6 = [TCP6_HEADER];
  for (const s of tree.socks) {
    const out = s.v6 ? v6 : v4;
    out.push(line(out.length - 1, s.local, s.remote, s.st, s.inode, s.tr ?? 0, s.when ?? 0));
  }
  for (const [name, lines] of [['tcp', v4], ['tcp6', v6]]) {
    const tmp = join(tree.proc, 'net', `.${name}.tmp`);
    writeFileSync(tmp, lines.join('\n') + '\n');
    renameSync(tmp, join(tree.proc, 'net', name));
  }
}

const PROGRAMS = ['nginx', 'postgres', 'redis-server', 'java', 'node', 'envoy', 'haproxy', 'python3'];

/** Fake processes: pid dirs with comm, cmdline and fd links, sockets dealt round-robin. */
function writeOwners(tree) {
  if (tree.owners === 0) return;
  tree.pidOf = new Map();
  tree.fdNext = new Map();
  for (let i = 0; i < tree.owners; i++) {
    const pid = 2000 + i;
    const dir = join(tree.proc, String(pid));
    mkdirSync(join(dir, 'fd'), { recursive: true });
    const prog = PROGRAMS[i % PROGRAMS.length];
    writeFileSync(join(dir, 'comm'), `${prog}\n`);
    writeFileSync(join(dir, 'cmdline'), `/usr/bin/${prog}\0--worker\0${i}\0`);
    tree.fdNext.set(pid, 3);
  }
  for (const [i, s] of tree.socks.entries()) if (s.inode !== 0) link(tree, s, 2000 + (i % tree.owners));
}

function link(tree, s, pid) {
  const fd = tree.fdNext.get(pid);
  tree.fdNext.set(pid, fd + 1);
  symlinkSync(`socket:[${s.inode}]`, join(tree.proc, String(pid), 'fd', String(fd)));
  tree.pidOf.set(s.inode, [pid, fd]);
}

/** Build the tree; returns a handle for churn() and cleanup(). */
export function buildTree({ pairs = 100_000, dir, owners = 24 } = {}) {
  const base = dir ?? mkdtempSync(join(os.tmpdir(), 'netscope-fixture-'));
  const proc = join(base, 'proc');
  mkdirSync(join(proc, 'net'), { recursive: true });
  cpSync(join(FIX, 'proc/debian-live'), proc, { recursive: true });
  for (const f of ['udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'unix']) {
    cpSync(join(FIX, 'proc/live-loopback/net', f), join(proc, 'net', f));
  }
  cpSync(join(FIX, 'sys/debian-live'), join(base, 'sys'), { recursive: true });
  cpSync(join(FIX, 'etc/debian-live'), join(base, 'etc'), { recursive: true });
  const { socks, inode } = makeSockets(pairs);
  const tree = { base, proc, pairs, owners, socks, inode, gen: 0, pidOf: new Map(), fdNext: new Map() };
  writeTables(tree);
  writeOwners(tree);
  return tree;
}

/** Replace `share` of the ESTABLISHED pairs with fresh ones (new client port and inodes) and rewrite the tables. */
export function churn(tree, share = 0.01) {
  tree.gen++;
  const byPair = new Map();
  for (const [i, s] of tree.socks.entries()) {
    if (s.pair === undefined) continue;
    const list = byPair.get(s.pair);
    if (list) list.push(i);
    else byPair.set(s.pair, [i]);
  }
  const keys = [...byPair.keys()];
  const n = Math.max(1, Math.round(keys.length * share));
  const nextInode = () => ++tree.inode;
  for (let j = 0; j < n; j++) {
    const k = keys[(tree.gen * 104_729 + j * 7_919) % keys.length];
    const idx = byPair.get(k);
    const fresh = pairSockets(k, nextInode, tree.gen).filter((s) => s.pair !== undefined);
    if (fresh.length !== idx.length) continue;
    for (const [m, i] of idx.entries()) {
      const old = tree.socks[i];
      const owner = tree.pidOf.get(old.inode);
      if (owner) {
        unlinkSync(join(tree.proc, String(owner[0]), 'fd', String(owner[1])));
        tree.pidOf.delete(old.inode);
        link(tree, fresh[m], owner[0]);
      }
      tree.socks[i] = fresh[m];
    }
  }
  writeTables(tree);
}

export function cleanup(tree) {
  rmSync(tree.base, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const USAGE = 'node bench/fixture-tree.mjs [--pairs 100000] [--dir DIR] [--owners 24]';
  const values = benchFlags('fixture-tree', USAGE, { pairs: { type: 'string', default: '100000' }, dir: { type: 'string' }, owners: { type: 'string', default: '24' } });
  const pairs = intFlag('fixture-tree', USAGE, 'pairs', values.pairs, 1, 200_000);
  const owners = intFlag('fixture-tree', USAGE, 'owners', values.owners, 1);
  const t0 = performance.now();
  const tree = buildTree({ pairs, dir: values.dir, owners });
  process.stderr.write(`fixture-tree: ${tree.socks.length} TCP sockets in ${Math.round(performance.now() - t0)} ms\n`);
  process.stdout.write(`${tree.proc}\n`);
}
