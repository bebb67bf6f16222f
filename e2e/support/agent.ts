/**
 * A private agent for specs that kill, restart or reconfigure it (the config's shared agent on
 * 18080 must stay up for the other specs): the built dist/main.js on a port of its own, a temp
 * config and data dir; ended by its own pid, restarted on the same port. Plus loopback connection
 * pairs the spec opens and closes itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_MAIN = fileURLToPath(new URL('../../apps/agent/dist/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A port free on 127.0.0.1 below ip_local_port_range, which listen(0) and connect() never hand out:
 * for a port an agent rule watches on every address (perLocalPort, services). An ephemeral one can
 * be shared by other processes' sockets on other addresses (the benchmarks' 127.13.x.y), and taken
 * by another listener while the spec's is closed.
 */
export async function quietPort(): Promise<number> {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const from = Math.max(1024, low - 16_384);
  for (let attempt = 0; attempt < 50 && low - from > 0; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const srv = createServer();
    const ok = await new Promise<boolean>((r) => {
      srv.once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise<void>((r) => srv.close(() => r()));
      return port;
    }
  }
  throw new Error(`no free port below ip_local_port_range (${low})`);
}

export interface AgentOptions {
  intervalMs: number;
  /** YAML text of the --config file; none: built-in defaults. */
  configYaml?: string;
  /** More flags, e.g. ['--proc-root', dir, '--no-owners']. */
  extraArgs?: string[];
}

export class PrivateAgent {
  readonly dir = mkdtempSync(join(tmpdir(), 'netscope-e2e-'));
  port = 0;
  private child: ChildProcess | null = null;
  log = '';

  constructor(private readonly opts: AgentOptions) {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = [AGENT_MAIN, '--port', String(this.port), '--interval', String(this.opts.intervalMs), '--data-dir', join(this.dir, 'data'), '--quiet'];
    if (this.opts.configYaml !== undefined) {
      const file = join(this.dir, 'netscope.yaml');
      writeFileSync(file, this.opts.configYaml);
      args.push('--config', file);
    }
    args.push(...(this.opts.extraArgs ?? []));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-4000);
    });
    // Bounded: the port may still be held a moment after a kill; the machine may be slow.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}: ${this.log}`);
      try {
        const res = await fetch(`${this.origin}/api/health`);
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(200);
    }
    throw new Error(`agent on ${this.port} did not answer /api/health within 60 s: ${this.log}`);
  }

  /** End it by its own pid (SIGKILL: an agent that dies, not one that says goodbye) and wait for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid, signal);
    await Promise.race([exited, sleep(20_000)]);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `n` loopback connection pairs to a listener of the spec's own (ESTABLISHED both ends). */
export class LoopbackPairs {
  private server: Server | null = null;
  private readonly clients: Socket[] = [];
  private readonly accepted: Socket[] = [];
  port = 0;

  async listen(port = 0): Promise<number> {
    const srv = createServer((s) => {
      s.on('error', () => undefined);
      this.accepted.push(s);
    });
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    this.server = srv;
    this.port = (srv.address() as AddressInfo).port;
    return this.port;
  }

  async open(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const c = connect(this.port, '127.0.0.1');
      c.on('error', () => undefined);
      await new Promise<void>((r, j) => {
        c.once('connect', () => r());
        c.once('error', j);
      });
      this.clients.push(c);
    }
  }

  /** Close every pair (the listener stays). Reset, not FIN: no TIME_WAIT left on the port. */
  closePairs(): void {
    for (const s of [...this.clients, ...this.accepted]) s.resetAndDestroy();
    this.clients.length = 0;
    this.accepted.length = 0;
  }

  async close(): Promise<void> {
    this.closePairs();
    const srv = this.server;
    this.server = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }
}

const FIXTURE = fileURLToPath(new URL('../../apps/agent/test/fixtures/proc/debian-live', import.meta.url));

/** 10.0.a.b as /proc/net/tcp writes it (little-endian hex) with the port. */
function hexAddr(a: number, b: number, port: number): string {
  const h = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `${h(b)}${h(a)}000A:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A /proc tree whose TCP table churns: a copy of the debian-live fixture plus a generated
 * net/tcp rewritten (atomically) every `everyMs`: a few hundred connections from changing remote
 * addresses, the ESTABLISHED count swinging across `swing` so alerts are raised and cleared, the
 * 443 listener present half the time (a watched service going down and up), net/dev counters
 * growing. Lets an agent tick every 100 ms on a busy machine, with real deltas every tick.
 */
export class ChurningProc {
  readonly dir = mkdtempSync(join(tmpdir(), 'netscope-proc-'));
  private timer: NodeJS.Timeout | null = null;
  private step = 0;
  private inode = 500_000;

  constructor(private readonly swing: [number, number] = [150, 450]) {
    cpSync(FIXTURE, this.dir, { recursive: true });
    mkdirSync(join(this.dir, 'net'), { recursive: true });
    this.write();
  }

  start(everyMs = 300): void {
    this.timer = setInterval(() => this.write(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private write(): void {
    const k = this.step++;
    const [lo, hi] = this.swing;
    // A 60-step triangle wave between lo and hi.
    const phase = k % 60;
    const est = Math.round(lo + ((hi - lo) * (phase < 30 ? phase : 60 - phase)) / 30);
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    let sl = 0;
    const add = (local: string, remote: string, st: string) => {
      lines.push(`${String(sl++).padStart(4)}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${this.inode++} 1 0000000000000000 20 4 30 10 -1`);
    };
    add('00000000:0016', '00000000:0000', '0A'); // :22 listens always
    if (Math.floor(k / 40) % 2 === 0) add('00000000:01BB', '00000000:0000', '0A'); // :443 half the time
    for (let i = 0; i < est; i++) {
      // Remote addresses drift with the step: new peers appear, old ones go.
      const peer = (i % 40) + (Math.floor(k / 10) % 200);
      add(hexAddr(0, 1, 443), hexAddr(1 + (peer >> 8), peer & 255, 20_000 + ((i * 7 + k) % 40_000)), '01');
    }
    for (let i = 0; i < 50 + (k % 50); i++) add(hexAddr(0, 1, 443), hexAddr(2, i & 255, 30_000 + i), '06'); // TIME_WAIT
    for (let i = 0; i < (k % 30); i++) add(hexAddr(0, 1, 8080), hexAddr(3, i & 255, 40_000 + i), '08'); // CLOSE_WAIT
    const tmp = join(this.dir, 'net', 'tcp.tmp');
    writeFileSync(tmp, lines.join('\n') + '\n');
    renameSync(tmp, join(this.dir, 'net', 'tcp'));
    const rx = 1_000_000 * k;
    const dev = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      `    lo: ${rx} ${k * 10} 0 0 0 0 0 0 ${rx} ${k * 10} 0 0 0 0 0 0`,
      `  eth0: ${rx * 3} ${k * 900} 0 0 0 0 0 0 ${rx * 2 + k * k * 5000} ${k * 700} 0 0 0 0 0 0`,
    ];
    const tmpDev = join(this.dir, 'net', 'dev.tmp');
    writeFileSync(tmpDev, dev.join('\n') + '\n');
    renameSync(tmpDev, join(this.dir, 'net', 'dev'));
  }
}
