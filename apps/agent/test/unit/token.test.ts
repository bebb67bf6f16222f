import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ConfigError, parseConfig, tokenBits } from '../../src/config.js';

const accepts = (token: string): boolean => {
  try {
    // the `=` form: a random base64url token starts with '-' one time in 64, which `--token -x` reads as a flag
    parseConfig([`--token=${token}`]);
    return true;
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
};

describe('token strength (128 bits)', () => {
  it.each([
    ['openssl rand -base64 24', randomBytes(24).toString('base64'), true],
    ['openssl rand -base64 16 (22 chars + ==)', randomBytes(16).toString('base64'), true],
    ['22 base64url characters', randomBytes(17).toString('base64url').slice(0, 22), true],
    ['openssl rand -hex 16', randomBytes(16).toString('hex'), true],
    ['openssl rand -hex 11 (88 bits)', randomBytes(11).toString('hex'), false],
    ['21 mixed characters', 'aB3$aB3$aB3$aB3$aB3$a', false],
    ['30 decimal digits', '123456789012345678901234567890', false],
    ['39 decimal digits', '123456789012345678901234567890123456789', true],
    ['a UUID (hex with dashes)', '3f2b8c1e-9d4a-4b7e-8f1c-2a6d5e9b0c13', true],
  ])('%s → accepted: %s', (_name, token, ok) => {
    expect(accepts(token)).toBe(ok);
  });

  it('every random 22-character base64url token is accepted, also the ~1 in 100 without a digit or symbol', () => {
    expect(accepts('jFhaoHCeHQCsPQOdlEOlqa')).toBe(true); // one that was refused as 125 bits
    const refused: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const token = randomBytes(17).toString('base64url').slice(0, 22);
      if (!accepts(token)) refused.push(token);
    }
    expect(refused).toEqual([]);
    // letters of one case only are not base64's alphabet: 22 of them are still too few bits
    expect(accepts('abcdefghijklmnopqrstuv')).toBe(false);
    expect(accepts('ABCDEFGHIJKLMNOPQRSTUV')).toBe(false);
  });

  it('a token starting with "-" goes in the --token=… form; given apart, the error says so once', () => {
    const token = '-FA5GRiFUeTN3KoUjvwQnj'; // 22 base64url characters
    expect(accepts(token)).toBe(true);
    expect(() => parseConfig(['--token', token])).toThrow(/use '--token=-XYZ'\. Run with --help/);
  });

  it('estimates bits from length and character classes', () => {
    expect(tokenBits('')).toBe(0);
    expect(tokenBits('f'.repeat(32))).toBe(128);
    expect(tokenBits('A1b2'.repeat(6))).toBe(144); // 24 base64 characters × 6 bits
    expect(Math.round(tokenBits('A1b2$'.repeat(5)))).toBe(164); // 25 × log2(94): a symbol outside base64's
    expect(Math.round(tokenBits('x1y2'.repeat(6)))).toBe(124); // 24 × log2(36): no capitals, not base64
  });

  it('never echoes the refused token', () => {
    const token = 'deadbeefdeadbeefdeadbeef';
    expect(() => parseConfig(['--token', token])).toThrow(/too short.*openssl rand/);
    try {
      parseConfig(['--token', token]);
    } catch (err) {
      expect((err as Error).message).not.toContain(token);
    }
  });
});
