/**
 * Command-line flags and their environment equivalents. Pure: argv + env in, a Config or a
 * ConfigError with a message meant for a person out.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { defaultDataDir } from './history/paths.js';

export interface Config {
  host: string;
  port: number;
  intervalMs: number;
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  /** Built web app to serve; null → the bundled default beside the agent. */
  webRoot: string | null;
  token: string | null;
  /** Print one snapshot as JSON and exit. */
  once: boolean;
  /** --once output: pretty-printed. */
  pretty: boolean;
  /** Walk /proc/<pid>/fd for owners (netstat -p). */
  owners: boolean;
  /** Where TCP sockets come from: sock_diag netlink dumps (as ss), /proc/net/tcp{,6}, or auto. */
  tcpSource: 'auto' | 'netlink' | 'proc';
  /** Extra Host names accepted (DNS-rebinding guard). */
  allowedHosts: string[];
  /** Extra Origins accepted for /ws. */
  allowedOrigins: string[];
  tlsCert: string | null;
  tlsKey: string | null;
  quiet: boolean;
  /** Alert rules / watched services / webhook file (JSON or YAML); null → the documented defaults. */
  configFile: string | null;
  /** Where history and the alert log are kept. */
  dataDir: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const USAGE = `netscope agent — netstat and ss as a live web dashboard

Usage: pnpm start -- [options]        (or: node apps/agent/dist/main.js [options])

Options (environment equivalent in brackets):
  --host ADDR          address to bind (default 127.0.0.1) [NETSCOPE_HOST]
                       anything but loopback requires --token
  --port N             TCP port, 0-65535 (default 8080) [NETSCOPE_PORT]
  --interval MS        collection interval in ms, 100-3600000 (default 1000) [NETSCOPE_INTERVAL]
  --proc-root DIR      read /proc from DIR, e.g. a fixture tree (default /proc) [NETSCOPE_PROC_ROOT]
  --sys-root DIR       read /sys from DIR (default /sys, or DIR/../sys beside a --proc-root) [NETSCOPE_SYS_ROOT]
  --etc-root DIR       read services/passwd from DIR (default /etc, or DIR/../etc beside a --proc-root) [NETSCOPE_ETC_ROOT]
  --token T            require this token for HTTP and WebSocket (at least 128 bits: 22+ base64 or 32+ hex chars) [NETSCOPE_TOKEN]
  --allow-host NAME    also accept this Host header (repeatable) [NETSCOPE_ALLOW_HOSTS, comma-separated]
  --allow-origin URL   also accept this Origin for /ws (repeatable) [NETSCOPE_ALLOW_ORIGINS, comma-separated]
  --tls-cert FILE      serve HTTPS with this certificate (PEM) [NETSCOPE_TLS_CERT]
  --tls-key FILE       ... and this private key (PEM) [NETSCOPE_TLS_KEY]
  --web-root DIR       serve the web app from DIR (default: the built apps/web/dist)
  --no-owners          do not walk /proc/<pid>/fd (no PID/Program column)
  --tcp-source SRC     TCP sockets from: auto (default: netlink sock_diag dumps as ss reads them, when
                       live and available; else /proc/net/tcp), netlink (required), proc [NETSCOPE_TCP_SOURCE]
  --once               collect one snapshot, print it as JSON on stdout, and exit
  --pretty             with --once: indent the JSON
  --quiet              no startup banner
  --config FILE        alert rules, watched services, webhook (JSON or YAML) [NETSCOPE_CONFIG]
  --data-dir DIR       history and alert log store (default $XDG_STATE_HOME/netscope or ~/.local/state/netscope) [NETSCOPE_DATA_DIR]
  -h, --help           show this help
  -v, --version        print the version
`;

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** 127.0.0.0/8, ::1 and localhost are loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Upper bound on a token's entropy from its length and the character classes it uses: 22 base64
 * characters carry 132 bits, but 22 hex digits only 88 (`openssl rand -hex 11`). A token of base64
 * characters with both cases of letters counts as base64 even when no digit or symbol came up: one
 * random 22-character base64url token in ~100 has none (52/64 to the 22nd power), and was refused
 * as 125 bits. Pure.
 */
export function tokenBits(token: string): number {
  if (token.length === 0) return 0;
  let alphabet: number;
  if (/^[0-9]+$/.test(token)) alphabet = 10;
  else if (/^[0-9a-f-]+$/.test(token) || /^[0-9A-F-]+$/.test(token)) alphabet = 16; // hex, UUIDs
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token)) alphabet = 64; // base64, base64url
  else {
    alphabet = 0;
    if (/[0-9]/.test(token)) alphabet += 10;
    if (/[a-z]/.test(token)) alphabet += 26;
    if (/[A-Z]/.test(token)) alphabet += 26;
    if (/[^0-9a-zA-Z]/.test(token)) alphabet += 32;
  }
  return token.length * Math.log2(Math.max(alphabet, 2));
}

function intOption(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`--${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function list(raw: string | undefined): string[] {
  return raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** --allow-host takes a bare name or address (the Host header's port is not compared); no wildcards. */
function checkAllowedHost(name: string): string {
  if (name.includes('*')) throw new ConfigError(`--allow-host ${name}: wildcards are not accepted; name each host`);
  const ok = isIP(name) !== 0 || isIP(name.replace(/^\[(.*)\]$/, '$1')) === 6 || /^[^:[\]/\s]+$/.test(name);
  if (!ok) {
    throw new ConfigError(`--allow-host ${name}: give a bare host name or address, without scheme, port or path`);
  }
  return name;
}

/** --allow-origin takes exact origins (scheme://host[:port]); `*` or `null` would open /ws to any page. */
function checkAllowedOrigin(origin: string): string {
  if (origin === '*' || origin === 'null') {
    throw new ConfigError(`--allow-origin ${origin} is refused: it would let any web page read this machine's connections; list exact origins such as https://noc.example`);
  }
  let url: URL | null = null;
  try {
    url = new URL(origin);
  } catch {
    /* below */
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) {
    throw new ConfigError(`--allow-origin ${origin}: give an exact origin, scheme://host[:port] with no path or trailing slash, e.g. https://noc.example`);
  }
  return origin;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config };

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  // `pnpm start -- --port 9000` may pass the `--` through; a leading one is not an argument.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        interval: { type: 'string' },
        'proc-root': { type: 'string' },
        'sys-root': { type: 'string' },
        'etc-root': { type: 'string' },
        'web-root': { type: 'string' },
        token: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        'allow-origin': { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'no-owners': { type: 'boolean' },
        'tcp-source': { type: 'string' },
        once: { type: 'boolean' },
        pretty: { type: 'boolean' },
        quiet: { type: 'boolean' },
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    // node's messages name the flag ("Unknown option '--prot'"); keep them, add the way out.
    throw new ConfigError(`${(err as Error).message.replace(/\.+$/, '')}. Run with --help for the list of options.`);
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };

  const host = (v.host ?? env.NETSCOPE_HOST ?? '127.0.0.1').trim();
  if (host === '') throw new ConfigError('--host must not be empty');
  const port = intOption('port', v.port ?? env.NETSCOPE_PORT ?? '8080', 0, 65535);
  const intervalMs = intOption('interval', v.interval ?? env.NETSCOPE_INTERVAL ?? '1000', 100, 3_600_000);

  const procRoot = resolve(v['proc-root'] ?? env.NETSCOPE_PROC_ROOT ?? '/proc');
  const custom = procRoot !== '/proc';
  const sysRoot = resolve(v['sys-root'] ?? env.NETSCOPE_SYS_ROOT ?? (custom ? join(dirname(procRoot), 'sys') : '/sys'));
  const etcRoot = resolve(v['etc-root'] ?? env.NETSCOPE_ETC_ROOT ?? (custom ? join(dirname(procRoot), 'etc') : '/etc'));

  const token = v.token ?? env.NETSCOPE_TOKEN ?? null;
  if (token !== null && (token.length < 22 || tokenBits(token) < 128)) {
    throw new ConfigError(
      `--token is too short (${token.length} characters, at most ${Math.floor(tokenBits(token))} bits): use at least 128 random bits, ` +
        `e.g. \`openssl rand -base64 24\` (32 characters) or \`openssl rand -hex 16\``,
    );
  }
  if (!isLoopbackHost(host) && token === null && !v.once) {
    throw new ConfigError(
      `refusing to bind ${host} without --token: netscope shows every connection and process on this machine, ` +
        `and anyone who can reach ${host}:${port} would see them. Pass --token (or NETSCOPE_TOKEN) with 128+ random bits, ` +
        `or bind 127.0.0.1 and use an SSH tunnel.`,
    );
  }
  const tlsCert = v['tls-cert'] ?? env.NETSCOPE_TLS_CERT ?? null;
  const tlsKey = v['tls-key'] ?? env.NETSCOPE_TLS_KEY ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (v.pretty && !v.once) throw new ConfigError('--pretty only applies to --once');
  const configFile = v.config ?? env.NETSCOPE_CONFIG ?? null;
  const tcpSource = v['tcp-source'] ?? env.NETSCOPE_TCP_SOURCE ?? 'auto';
  if (tcpSource !== 'auto' && tcpSource !== 'netlink' && tcpSource !== 'proc') {
    throw new ConfigError(`--tcp-source must be auto, netlink or proc, got ${JSON.stringify(tcpSource)}`);
  }
  if (tcpSource === 'netlink' && custom) {
    throw new ConfigError(`--tcp-source netlink reads the live kernel, but --proc-root ${procRoot} asks for a /proc tree: use auto or proc`);
  }

  return {
    kind: 'run',
    config: {
      host,
      port,
      intervalMs,
      procRoot,
      sysRoot,
      etcRoot,
      webRoot: v['web-root'] ? resolve(v['web-root']) : null,
      token,
      once: v.once ?? false,
      pretty: v.pretty ?? false,
      owners: !(v['no-owners'] ?? false),
      tcpSource,
      allowedHosts: [...(v['allow-host'] ?? []), ...list(env.NETSCOPE_ALLOW_HOSTS)].map(checkAllowedHost),
      allowedOrigins: [...(v['allow-origin'] ?? []), ...list(env.NETSCOPE_ALLOW_ORIGINS)].map(checkAllowedOrigin),
      tlsCert,
      tlsKey,
      quiet: v.quiet ?? false,
      configFile: configFile ? resolve(configFile) : null,
      dataDir: resolve(v['data-dir'] || env.NETSCOPE_DATA_DIR || defaultDataDir(env, env.HOME || undefined)),
    },
  };
}
