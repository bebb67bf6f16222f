import { describe, expect, it } from 'vitest';
import { compareText } from '../src/index.js';

describe('compareText', () => {
  it('orders by code unit, whatever the locale', () => {
    expect(['tcp6', 'udp', 'tcp', 'Tcp'].sort(compareText)).toEqual(['Tcp', 'tcp', 'tcp6', 'udp']);
    // ICU's root collation puts ':' before digits; code-unit order puts it after them.
    expect(['1::', '10::', '::1', '0.0.0.0'].sort(compareText)).toEqual(['0.0.0.0', '10::', '1::', '::1']);
    expect(compareText('eth0', 'eth0')).toBe(0);
    expect(compareText('', 'a')).toBe(-1);
    expect(compareText('b', 'a')).toBe(1);
  });
});
