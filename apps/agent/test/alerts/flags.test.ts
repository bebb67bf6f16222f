/** --config / --data-dir and their environment equivalents. */
import { describe, expect, it } from 'vitest';
import { parseConfig, USAGE, type Config } from '../../src/config.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const r = parseConfig(argv, env);
  if (r.kind !== 'run') throw new Error('expected a run config');
  return r.config;
};

describe('--config and --data-dir', () => {
  it('default: no config file (built-in rules), data under $XDG_STATE_HOME or ~/.local/state, never the work tree', () => {
    expect(run([], { HOME: '/home/wall' })).toMatchObject({ configFile: null, dataDir: '/home/wall/.local/state/netscope' });
    expect(run([], { HOME: '/home/wall', XDG_STATE_HOME: '/var/lib/wall-state' }).dataDir).toBe('/var/lib/wall-state/netscope');
    expect(run([]).dataDir.startsWith(process.cwd())).toBe(false);
  });

  it('flags and environment, flags first; paths resolved', () => {
    expect(run(['--config', 'netscope.yaml', '--data-dir', 'data'])).toMatchObject({
      configFile: `${process.cwd()}/netscope.yaml`,
      dataDir: `${process.cwd()}/data`,
    });
    expect(run([], { NETSCOPE_CONFIG: '/etc/netscope.yaml', NETSCOPE_DATA_DIR: '/var/lib/netscope' })).toMatchObject({
      configFile: '/etc/netscope.yaml',
      dataDir: '/var/lib/netscope',
    });
    expect(run(['--config', '/a.yaml'], { NETSCOPE_CONFIG: '/b.yaml' }).configFile).toBe('/a.yaml');
    expect(run([], { NETSCOPE_CONFIG: '' }).configFile).toBeNull();
  });

  it('are in --help', () => {
    expect(USAGE).toMatch(/--config FILE .*\[NETSCOPE_CONFIG\]/);
    expect(USAGE).toMatch(/--data-dir DIR .*\[NETSCOPE_DATA_DIR\]/);
  });
});
