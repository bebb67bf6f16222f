import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, parseConfig, type Config } from '../../src/config.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const r = parseConfig(argv, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.kind}`);
  return r.config;
};

describe('parseConfig', () => {
  it('has the documented defaults', () => {
    const c = run([]);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, intervalMs: 1000, procRoot: '/proc', sysRoot: '/sys', etcRoot: '/etc', owners: true, once: false, token: null });
  });
  it('accepts flags, a leading -- from pnpm, and env equivalents', () => {
    expect(run(['--', '--port', '9000']).port).toBe(9000);
    expect(run(['--port=9001', '--interval', '250']).intervalMs).toBe(250);
    expect(run([], { NETSCOPE_PORT: '9002', NETSCOPE_INTERVAL: '500' })).toMatchObject({ port: 9002, intervalMs: 500 });
    expect(run(['--port', '9003'], { NETSCOPE_PORT: '9002' }).port).toBe(9003);
  });
  it('picks the TCP source: auto by default, netlink or proc on request, never netlink on a /proc tree', () => {
    expect(run([]).tcpSource).toBe('auto');
    expect(run(['--tcp-source', 'proc']).tcpSource).toBe('proc');
    expect(run([], { NETSCOPE_TCP_SOURCE: 'netlink' }).tcpSource).toBe('netlink');
    expect(() => run(['--tcp-source', 'ss'])).toThrow(/--tcp-source must be auto, netlink or proc, got "ss"/);
    expect(() => run(['--tcp-source', 'netlink', '--proc-root', '/tmp/fx/proc'])).toThrow(/reads the live kernel/);
    expect(run(['--tcp-source', 'auto', '--proc-root', '/tmp/fx/proc']).tcpSource).toBe('auto');
  });
  it('puts sys and etc beside a custom proc root', () => {
    const c = run(['--proc-root', '/tmp/fx/proc']);
    expect(c).toMatchObject({ procRoot: '/tmp/fx/proc', sysRoot: '/tmp/fx/sys', etcRoot: '/tmp/fx/etc' });
  });
  it.each([
    [['--port', 'abc'], /--port must be a whole number, got "abc"/],
    [['--port', '70000'], /--port must be between 0 and 65535/],
    [['--interval', '5'], /--interval must be between 100 and 3600000/],
    [['--prot', '1'], /Unknown option '--prot'.*--help/],
    [['stray'], /positional|Unexpected argument/i],
    [['--host', '0.0.0.0'], /refusing to bind 0\.0\.0\.0 without --token/],
    [['--token', 'short'], /too short/],
    [['--tls-cert', 'a.pem'], /go together/],
    [['--pretty'], /only applies to --once/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseConfig(argv)).toThrow(ConfigError);
    expect(() => parseConfig(argv)).toThrow(message);
  });
  it('allows a non-loopback bind with a long token', () => {
    expect(run(['--host', '0.0.0.0', '--token', 'x'.repeat(32)]).host).toBe('0.0.0.0');
  });
  it('knows help and version', () => {
    expect(parseConfig(['--help']).kind).toBe('help');
    expect(parseConfig(['-v']).kind).toBe('version');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['evil.example', false],
    ['127.0.0.1.evil.example', false],
  ])('%s → %s', (h, want) => expect(isLoopbackHost(h)).toBe(want));
});
