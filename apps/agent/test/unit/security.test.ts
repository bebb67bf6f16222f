import { describe, expect, it } from 'vitest';
import {
  FailureLimiter,
  authorized,
  cookieName,
  hostAllowed,
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
