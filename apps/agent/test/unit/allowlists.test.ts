import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';

const cfg = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const p = parseConfig(args, env);
  if (p.kind !== 'run') throw new Error('not a run');
  return p.config;
};

describe('--allow-origin: exact origins only (an allowlist never becomes *)', () => {
  it.each(['https://noc.example', 'http://10.0.0.5:8080', 'https://[2001:db8::1]:8443'])('accepts %s', (o) => {
    expect(cfg(['--allow-origin', o]).allowedOrigins).toEqual([o]);
  });
  it.each([
    ['*', /any web page/],
    ['null', /any web page/],
    ['https://noc.example/', /exact origin/],
    ['https://noc.example/path', /exact origin/],
    ['noc.example', /exact origin/],
    ['ftp://noc.example', /exact origin/],
    ['HTTPS://NOC.EXAMPLE', /exact origin/],
  ])('refuses %s', (o, why) => {
    expect(() => cfg(['--allow-origin', o])).toThrow(why);
  });
  it('checks the env form too', () => {
    expect(() => cfg([], { NETSCOPE_ALLOW_ORIGINS: 'https://ok.example,*' })).toThrow(/any web page/);
  });
});

describe('--allow-host: bare names and addresses', () => {
  it.each(['netscope.lan', '10.0.0.5', '[2001:db8::1]', '2001:db8::1'])('accepts %s', (h) => {
    expect(cfg(['--allow-host', h]).allowedHosts).toEqual([h]);
  });
  it.each([
    ['*.example', /wildcards/],
    ['*', /wildcards/],
    ['netscope.lan:8080', /without scheme, port or path/],
    ['http://netscope.lan', /without scheme, port or path/],
    ['netscope.lan/x', /without scheme, port or path/],
    ['abc:8080', /without scheme, port or path/],
  ])('refuses %s', (h, why) => {
    expect(() => cfg(['--allow-host', h])).toThrow(why);
  });
});
