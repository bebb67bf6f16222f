/**
 * Shared by the non-socket /proc parser tests: fixture roots, the real tools (route, netstat, ip)
 * and fast-check arbitraries for hostile text.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Roots } from '../../src/procfs/source.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The fake proc/sys/etc roots of one scenario. */
export function fixtureRoots(scenario: string): Roots {
  return { proc: `${FIXTURES}proc/${scenario}`, sys: `${FIXTURES}sys/${scenario}`, etc: `${FIXTURES}etc/${scenario}` };
}

export const LIVE: Roots = { proc: '/proc', sys: '/sys', etc: '/etc' };

export function fixtureText(scenario: string, rel: string): string {
  return readFileSync(`${FIXTURES}proc/${scenario}/${rel}`, 'utf8');
}

/** Captured output of a real tool (test/fixtures/commands/<scenario>/<name>). */
export function commandOutput(scenario: string, name: string): string {
  return readFileSync(`${FIXTURES}commands/${scenario}/${name}`, 'utf8');
}

/** Run a tool on this machine; null when it is not installed or fails. */
export function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

export function haveTool(cmd: string): boolean {
  return ['/usr/bin/', '/usr/sbin/', '/bin/', '/sbin/'].some((d) => existsSync(d + cmd));
}

/** Rows of a whitespace table after its header line (the line starting with `firstHeader`). */
export function tableRows(text: string, firstHeader: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(firstHeader));
  if (start < 0) return [];
  return lines
    .slice(start + 1)
    .filter((l) => l.trim() !== '' && !l.startsWith('---'))
    .map((l) => l.trim().split(/\s+/));
}

/** Printable junk, control characters and /proc-flavoured tokens, as whole files. */
export const garbageText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          ' ', '\t', '\n', '\r\n', ':', '|', '=', '/', '#', '-', '-1', '0', '00000000', 'FFFFFFFF', '0x1003',
          '18446744073709551615', '99999999999999999999999', 'NaN', 'eth0', 'lo:', 'Tcp:', 'src=', 'dst=1.2.3.4',
          'sport=70000', '[ASSURED]', 'ipv4', 'ipv6', 'tcp', '6', '\u0000', '\u00ff', '💥', '__proto__', 'constructor',
        ),
        fc.string({ maxLength: 12 }),
        fc.nat().map(String),
        fc.nat().map((n) => n.toString(16)),
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join('')),
);

export const PROPERTY_RUNS = { numRuns: 500 };

/** Texts one character off `base`: one of `chars` put in place of, or before, one character, or one character dropped. */
export function oneCharOff(base: string, chars: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(base.length - 1), fc.constantFrom(...chars), fc.constantFrom('replace', 'insert', 'delete')).map(([i, c, how]) =>
    how === 'replace' ? base.slice(0, i) + c + base.slice(i + 1) : how === 'insert' ? base.slice(0, i) + c + base.slice(i) : base.slice(0, i) + base.slice(i + 1),
  );
}

/** Non-empty lines of a text, as the parsers count them. */
export function nonEmptyLines(text: string): number {
  return text.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '').length;
}

/** `nstat -asz` (iproute2): `IpInReceives   10363   0.0` → name → value. */
export function nstatCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && value && !name.startsWith('#')) out.set(name, Number(value));
  }
  return out;
}

/** nstat drops these as "useless" constants and the one gauge (misc/nstat.c useless_number). */
export const NSTAT_SKIPS = new Set(['IpForwarding', 'IpDefaultTTL', 'TcpRtoAlgorithm', 'TcpRtoMin', 'TcpRtoMax', 'TcpMaxConn', 'TcpCurrEstab']);

