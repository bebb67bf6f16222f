import { describe, expect, it } from 'vitest';
import { addressScope, cidrContains, parseCidr, parseIp } from '../src/index.js';

describe('ip helpers', () => {
  it('parses v4, v6 and v4-mapped', () => {
    expect(parseIp('127.0.0.1')).not.toBeNull();
    expect(parseIp('::1')?.[15]).toBe(1);
    expect(parseIp('::ffff:10.1.2.3')).toEqual(parseIp('10.1.2.3'));
    for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', 'x', '', '1.2.3.4.5', ':::', '12345::']) expect(parseIp(bad)).toBeNull();
  });
  it('matches CIDRs across families', () => {
    const c = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(c, '10.200.0.1')).toBe(true);
    expect(cidrContains(c, '::ffff:10.0.0.9')).toBe(true);
    expect(cidrContains(c, '11.0.0.1')).toBe(false);
    expect(cidrContains(parseCidr('fe80::/10')!, 'fe80::1')).toBe(true);
    expect(cidrContains(parseCidr('127.0.0.1')!, '127.0.0.2')).toBe(false);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0/8/1')).toBeNull();
  });
  it('classifies scopes', () => {
    expect(addressScope('127.0.0.5')).toBe('loopback');
    expect(addressScope('::1')).toBe('loopback');
    expect(addressScope('::ffff:127.0.0.1')).toBe('loopback');
    expect(addressScope('192.168.1.1')).toBe('private');
    expect(addressScope('fd00::1')).toBe('private');
    expect(addressScope('0.0.0.0')).toBe('unspecified');
    expect(addressScope('::')).toBe('unspecified');
    expect(addressScope('8.8.8.8')).toBe('public');
    expect(addressScope('2001:db8::1')).toBe('public');
  });
});
