/**
 * Drives the BUILT agent (apps/agent/dist/main.js) as a child process, the way a user runs it,
 * against a proc tree generated in a temp directory. Every process started here is ended by its
 * own pid (`stop()`), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const AGENT_MAIN = fileURLToPath(new URL('../../../dist/main.js', import.meta.url));

/** Fails with the build error from global-setup.ts rather than a confusing spawn failure. */
export function requireBuiltAgent(): void {
  const buildError = inject('agentBuildError');
  if (buildError) throw new Error(`the agent did not build, so it cannot be attacked: ${buildError}`);
  if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run pnpm --filter @netscope/agent run build`);
}

export interface RunningAgent {
  pid: number;
  port: number;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code/signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the process (by pid) and wait for it to exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Wait this long for the "serving" banner. */
  timeoutMs?: number;
  /** Run as another user, e.g. ['runuser', '-u', 'nobody', '--']. */
  wrapper?: string[];
  /** Extra node flags, e.g. --max-old-space-size. */
  nodeArgs?: string[];
  /** Start it another way than `node dist/main.js`, e.g. ['pnpm', 'start', '--'] (from `cwd`). */
  command?: string[];
  cwd?: string;
}

const BANNER = /serving (https?):\/\/(\S+?):(\d+)\//;

/** Spawn the agent and wait until it prints its banner (it listens only after the first tick). */
export async function startAgent(args: readonly string[], opts: StartOptions = {}): Promise<RunningAgent> {
  requireBuiltAgent();
  const cmd = [...(opts.wrapper ?? []), ...(opts.command ?? [process.execPath, ...(opts.nodeArgs ?? []), AGENT_MAIN]), ...args];
  // Each agent gets its own history store: never the user's ~/.local/state, never shared (locked).
  const dataDir = mkdtempSync(join(tmpdir(), 'netscope-data-'));
  chmodSync(dataDir, 0o777);
  const child = spawn(cmd[0]!, cmd.slice(1), {
    env: { ...process.env, NETSCOPE_TOKEN: undefined, NETSCOPE_HOST: undefined, NETSCOPE_PORT: undefined, NETSCOPE_DATA_DIR: dataDir, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: opts.cwd,
  });
  child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  for (;;) {
    const m = BANNER.exec(out);
    if (m) {
      const pid = child.pid!;
      const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
        if (!exitedEarly) {
          try {
            process.kill(pid, signal);
          } catch {
            /* already gone */
          }
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, graceMs);
        const r = await exited;
        clearTimeout(timer);
        return r;
      };
      return {
        pid,
        port: Number(m[3]),
        origin: `${m[1]}://${m[2]}:${m[3]}`,
        child,
        stdout: () => out,
        stderr: () => err,
        exited,
        stop,
      };
    }
    if (exitedEarly) throw new Error(`agent exited before serving: ${err || out}`);
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      throw new Error(`agent did not print its banner within ${timeoutMs} ms: ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Run the agent to completion (e.g. --once, or a flag error) and collect its output. */
export function runAgent(
  args: readonly string[],
  opts: StartOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuiltAgent();
  const cmd = [...(opts.wrapper ?? []), process.execPath, ...(opts.nodeArgs ?? []), AGENT_MAIN, ...args];
  return new Promise((resolve, reject) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'netscope-data-'));
    chmodSync(dataDir, 0o777);
    const child = spawn(cmd[0]!, cmd.slice(1), {
      env: { ...process.env, NETSCOPE_TOKEN: undefined, NETSCOPE_HOST: undefined, NETSCOPE_DATA_DIR: dataDir, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`agent ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 30_000} ms`));
    }, opts.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP/1.1 request with exactly the headers given (Host included), from a chosen loopback address. */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  opts: { localAddress?: string; method?: string; host?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...headers },
        localAddress: opts.localAddress,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Generated proc trees

const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TCP6_HEADER =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const UDP_HEADER =
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
const UNIX_HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n';

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/**
 * /proc/net/tcp with `count` ESTABLISHED connections 10.x.y.z:port → 127.0.0.1:8080. `salt`
 * changes every queue size so consecutive ticks produce a delta that touches every socket.
 */
export function tcpTable(count: number, salt = 0): string {
  const parts: string[] = [TCP_HEADER];
  for (let i = 0; i < count; i++) {
    const local = `${hex(10 + (i & 0xff) * 0x100 + ((i >> 8) & 0xff) * 0x10000, 8)}:${hex(1024 + (i % 60000), 4)}`;
    const tx = hex((i + salt) % 65536, 8);
    const rx = hex((i * 7 + salt) % 65536, 8);
    parts.push(
      `${String(i).padStart(6)}: ${local} 0100007F:1F90 01 ${tx}:${rx} 00:00000000 00000000  1000        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1\n`,
    );
  }
  return parts.join('');
}

export function unixTable(count: number): string {
  const parts: string[] = [UNIX_HEADER];
  for (let i = 0; i < count; i++) {
    parts.push(`0000000000000000: 00000002 00000000 00010000 0001 01 ${500000 + i} /run/test-${i}.sock\n`);
  }
  return parts.join('');
}

export interface ProcTree {
  dir: string;
  proc: string;
  sys: string;
  etc: string;
  /** --proc-root/--sys-root/--etc-root for this tree. */
  args: string[];
  write(rel: string, text: string | Buffer): void;
  remove(rel: string): void;
  cleanup(): void;
}

/**
 * A proc tree in a temp dir: socket tables (tcp with `tcpCount` lines, unix with `unixCount`),
 * plus the host files; aggregate files (snmp, route, dev…) are copied from this machine's /proc
 * when `withAggregates`, else absent (the agent reports them missing, which is itself a fault).
 */
export function makeProcTree(opts: { tcpCount?: number; unixCount?: number; withAggregates?: boolean } = {}): ProcTree {
  const dir = mkdtempSync(join(tmpdir(), 'netscope-sec-'));
  const tree: ProcTree = {
    dir,
    proc: join(dir, 'proc'),
    sys: join(dir, 'sys'),
    etc: join(dir, 'etc'),
    args: ['--proc-root', join(dir, 'proc'), '--sys-root', join(dir, 'sys'), '--etc-root', join(dir, 'etc')],
    write(rel, text) {
      const path = join(dir, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    },
    remove(rel) {
      rmSync(join(dir, rel), { recursive: true, force: true });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  tree.write('proc/net/tcp', tcpTable(opts.tcpCount ?? 50));
  tree.write('proc/net/tcp6', TCP6_HEADER);
  tree.write('proc/net/udp', UDP_HEADER);
  tree.write('proc/net/udp6', UDP_HEADER);
  tree.write('proc/net/unix', unixTable(opts.unixCount ?? 10));
  tree.write('proc/uptime', '12345.67 23456.78\n');
  tree.write('proc/sys/kernel/hostname', 'netscope-test\n');
  tree.write('proc/sys/kernel/osrelease', '6.1.0-test\n');
  tree.write('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n');
  tree.write('etc/services', 'http\t\t80/tcp\t\twww\nhttp-alt\t8080/tcp\n');
  mkdirSync(tree.sys, { recursive: true });
  if (opts.withAggregates) {
    for (const f of ['dev', 'route', 'ipv6_route', 'snmp', 'snmp6', 'netstat', 'sockstat', 'sockstat6', 'if_inet6', 'igmp', 'igmp6']) {
      try {
        tree.write(`proc/net/${f}`, readFileSync(`/proc/net/${f}`));
      } catch {
        /* this kernel lacks it: absent in the tree too */
      }
    }
  }
  return tree;
}
