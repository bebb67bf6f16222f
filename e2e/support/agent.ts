/**
 * A private agent for specs that kill, restart or reconfigure it (the config's shared agent on
 * 18080 must stay up for the other specs): the built dist/main.js on a port of its own, a temp
 * config and data dir; ended by its own pid, restarted on the same port. Plus loopback connection
 * pairs the spec opens and closes itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

export interface AgentOptions {
  intervalMs: number;
  /** YAML text of the --config file; none: built-in defaults. */
  configYaml?: string;
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
