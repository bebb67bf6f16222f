import { describe, expect, it } from 'vitest';
import {
  FailureLimiter,
  authorized,
  cookieName,
  hostAllowed,
  limiterKey,
  originAllowed,
  parseHostHeader,
  sessionValue,
  tokenMatches,
  type AccessPolicy,
} from '../../src/server/security.js';

const policy = (over: Partial<AccessPolicy> = {}): AccessPolicy => ({
  scheme: 'http',
  boundHost: '127.0.0.1',
  port: 8080,
  allowedHosts: [],
  allowedOrigins: [],
  token: null,
  ...over,
});

describe('Host guard (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1:8080', true],
    ['localhost:8080', true],
    ['[::1]:8080', true],
    ['evil.example:8080', false],
    ['evil.example', false],
    ['127.0.0.1.nip.io:8080', false],
    ['', false],
    [undefined, false],
    ['a b', false],
  ])('%s → %s', (host, want) => expect(hostAllowed(policy(), host)).toBe(want));
  it('accepts the bound address and configured names only', () => {
    const p = policy({ boundHost: '10.1.2.3', allowedHosts: ['netscope.lan'] });
    expect(hostAllowed(p, '10.1.2.3:8080')).toBe(true);
    expect(hostAllowed(p, 'netscope.lan:8080')).toBe(true);
    expect(hostAllowed(p, '10.1.2.4:8080')).toBe(false);
  });
  it('parses host headers strictly', () => {
    expect(parseHostHeader('[::1]:80')).toEqual({ name: '[::1]', port: 80 });
    expect(parseHostHeader('x:99999')).toBeNull();
  });
});

describe('Origin guard (cross-site WebSocket hijacking)', () => {
  it.each([
    ['http://127.0.0.1:8080', '127.0.0.1:8080', true],
    ['http://localhost:8080', 'localhost:8080', true],
    [undefined, '127.0.0.1:8080', true],
    ['http://evil.example', '127.0.0.1:8080', false],
    ['http://127.0.0.1:3000', '127.0.0.1:8080', false],
    ['http://localhost:8080', '127.0.0.1:8080', false],
    ['https://127.0.0.1:8080', '127.0.0.1:8080', false],
    ['null', '127.0.0.1:8080', false],
    ['http://127.0.0.1:8080', 'evil.example:8080', false],
  ])('Origin %s with Host %s → %s', (origin, host, want) => expect(originAllowed(policy(), origin, host)).toBe(want));
  it('accepts an allowlisted origin', () => {
    expect(originAllowed(policy({ allowedOrigins: ['https://noc.example'] }), 'https://noc.example', '127.0.0.1:8080')).toBe(true);
  });
});

describe('token', () => {
  const token = 'k'.repeat(32);
  it('compares exactly', () => {
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, token + 'x')).toBe(false);
    expect(tokenMatches(token, '')).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });
  it('accepts a bearer header or the session cookie, nothing else', () => {
    const p = policy({ token });
    expect(authorized(p, {})).toBe(false);
    expect(authorized(p, { authorization: `Bearer ${token}` })).toBe(true);
    expect(authorized(p, { authorization: `Bearer nope` })).toBe(false);
    expect(authorized(p, { cookie: `${cookieName(8080)}=${sessionValue(token)}` })).toBe(true);
    expect(authorized(p, { cookie: `${cookieName(9090)}=${sessionValue(token)}` })).toBe(false);
    expect(authorized(p, { cookie: `${cookieName(8080)}=${token}` })).toBe(false);
  });
  it('rate limits failures per address', () => {
    const l = new FailureLimiter(3, 1000);
    for (let i = 0; i < 3; i++) l.fail('a', 0);
    expect(l.blocked('a', 10)).toBe(true);
    expect(l.blocked('b', 10)).toBe(false);
    expect(l.blocked('a', 2000)).toBe(false);
  });
});

describe('wildcard bind: this machine’s own addresses are served', () => {
  const wild = policy({ boundHost: '0.0.0.0', localAddresses: () => ['127.0.0.1', '192.0.2.10', 'fe80::1'] });
  it.each([
    ['192.0.2.10:8080', true],
    ['[fe80::1]:8080', true],
    ['192.0.2.11:8080', false],
    ['0.0.0.0:8080', false],
    ['evil.example:8080', false],
  ])('Host %s → %s', (host, want) => expect(hostAllowed(wild, host)).toBe(want));
  it('an IP Host matches an Origin of the same IP and port', () => {
    expect(originAllowed(wild, 'http://192.0.2.10:8080', '192.0.2.10:8080')).toBe(true);
    expect(originAllowed(wild, 'http://192.0.2.10:8081', '192.0.2.10:8080')).toBe(false);
  });
  it('a specific bind does not widen to other local addresses', () => {
    const specific = policy({ boundHost: '192.0.2.10', localAddresses: () => ['192.0.2.20'] });
    expect(hostAllowed(specific, '192.0.2.20:8080')).toBe(false);
  });
});

describe('failure limiter keys and bounds', () => {
  it('charges IPv6 failures to the /64, IPv4 (and v4-mapped) to the address', () => {
    expect(limiterKey('2001:db8:1:2:aaaa::1')).toBe(limiterKey('2001:db8:1:2:bbbb::2'));
    expect(limiterKey('2001:db8:1:2::1')).not.toBe(limiterKey('2001:db8:1:3::1'));
    expect(limiterKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(limiterKey('10.0.0.1')).not.toBe(limiterKey('10.0.0.2'));
  });
  it('blocks a whole /64 after the limit', () => {
    const l = new FailureLimiter(3, 1000);
    l.fail('2001:db8::1', 0);
    l.fail('2001:db8::2', 0);
    l.fail('2001:db8::3', 0);
    expect(l.blocked('2001:db8::ffff', 10)).toBe(true);
    expect(l.blocked('2001:db9::1', 10)).toBe(false);
  });
  it('address spraying evicts the oldest entries, not every entry', () => {
    const l = new FailureLimiter(2, 60_000, 100);
    l.fail('10.9.9.9', 0);
    l.fail('10.9.9.9', 0);
    for (let i = 0; i < 50; i++) l.fail(`10.0.0.${i}`, 1);
    expect(l.blocked('10.9.9.9', 2)).toBe(true); // still tracked: under the bound
    for (let i = 0; i < 200; i++) l.fail(`10.1.${i >> 8}.${i & 255}`, 3);
    expect(l.blocked('10.1.0.199', 4)).toBe(false); // one failure, not blocked
    l.fail('10.1.0.199', 4);
    expect(l.blocked('10.1.0.199', 5)).toBe(true); // recent entries survive eviction
  });
});
