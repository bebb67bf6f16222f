/**
 * One fuzz table over EVERY `parse*` function exported by apps/agent/src/procfs/*.ts, found by
 * reading the modules (a parser added later is fuzzed without touching this file), plus the other
 * pure text decoders the collectors use. For each (fast-check, CASES runs per property):
 *   1. random garbage (ASCII, full Unicode, control bytes, line soup) → never throws, returns the
 *      documented shape, finishes fast;
 *   2. real files (test fixtures, else this machine's /proc) mutated — bytes dropped, inserted,
 *      lines cut, swapped, duplicated, truncated, CRLF — → same;
 *   3. one data line of a real file replaced by garbage → the parser says so: badLines ≥ 1 (or a
 *      whole-file message), never a silent record.
 * The case counts are printed at the end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';

const CASES = Number(process.env.NETSCOPE_FUZZ_CASES ?? 2000);
/** A single call on ≤ 64 KiB of input slower than this is a hang in the making. */
const SLOW_CALL_MS = 250;

const SRC = fileURLToPath(new URL('../../src/procfs/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

type Fn = (...args: unknown[]) => unknown;
const modules = new Map<string, Record<string, unknown>>();
for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts')).sort()) {
  modules.set(file, (await import(pathToFileURL(SRC + file).href)) as Record<string, unknown>);
}

/** Extra arguments for parsers that take more than the text; each variant is fuzzed. */
const EXTRA_ARGS: Record<string, unknown[][]> = {
  parseInetSockets: ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6'].flatMap((p) => [
    [p],
    [p, { byteOrder: 'le' }],
    [p, { byteOrder: 'be' }],
  ]),
  parseConntrack: [[], [0], [5]],
};

/** Other pure decoders of untrusted text, fuzzed with the parsers. */
const EXTRA_FUNCTIONS: Record<string, string[]> = {
  'conntrack.ts': ['scanConntrackLine'],
  'owners.ts': ['socketInodeOfLink'],
  'hexaddr.ts': ['ipv4FromHexLE', 'ipv6FromHex', 'canonicalIp', 'fields', 'lines'],
  'snmp6.ts': ['splitSnmp6Name'],
  'inet.ts': ['decodeHexAddress'],
};
EXTRA_ARGS.decodeHexAddress = [[4], [6], [4, 'be'], [6, 'be']];

/** Real files each parser reads: fixture paths first (stable), then this machine's (may be absent). */
const SEEDS: Record<string, { files: string[]; args?: unknown[] }[]> = {
  parseInetSockets: [
    ...['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'udplite'].map((p) => ({
      files: [`${FIXTURES}proc/live-loopback/net/${p}`, `/proc/net/${p}`],
      args: [p, { byteOrder: 'le' }],
    })),
  ],
  parseUnixSockets: [{ files: [`${FIXTURES}proc/live-loopback/net/unix`, '/proc/net/unix'] }],
  parseRoute: [{ files: [`${FIXTURES}proc/debian-live/net/route`, `${FIXTURES}proc/crafted/net/route`, '/proc/net/route'] }],
  parseIpv6Route: [{ files: [`${FIXTURES}proc/crafted/net/ipv6_route`, '/proc/net/ipv6_route'] }],
  parseDev: [{ files: [`${FIXTURES}proc/crafted/net/dev`, '/proc/net/dev'] }],
  parseIfInet6: [{ files: [`${FIXTURES}proc/crafted/net/if_inet6`, '/proc/net/if_inet6'] }],
  parseIgmp: [{ files: [`${FIXTURES}proc/crafted/net/igmp`, '/proc/net/igmp'] }],
  parseIgmp6: [{ files: [`${FIXTURES}proc/crafted/net/igmp6`, '/proc/net/igmp6'] }],
  parseSnmp: [
    { files: [`${FIXTURES}proc/crafted/net/snmp`, '/proc/net/snmp'] },
    { files: [`${FIXTURES}proc/crafted/net/netstat`, '/proc/net/netstat'] },
  ],
  parseSnmp6: [{ files: [`${FIXTURES}proc/crafted/net/snmp6`, '/proc/net/snmp6'] }],
  parseSockstat: [
    { files: [`${FIXTURES}proc/crafted/net/sockstat`, '/proc/net/sockstat'] },
    { files: [`${FIXTURES}proc/crafted/net/sockstat6`, '/proc/net/sockstat6'] },
  ],
  parseConntrack: [{ files: [`${FIXTURES}proc/crafted/net/nf_conntrack`, '/proc/net/nf_conntrack'] }],
  parsePasswd: [{ files: [`${FIXTURES}etc/crafted/passwd`, '/etc/passwd'] }],
  parseServices: [{ files: [`${FIXTURES}etc/crafted/services`, '/etc/services'] }],
};

/** At most this many lines of a seed: enough structure, fast cases. */
const SEED_LINES = 120;

function loadSeed(files: string[]): string | null {
  for (const f of files) {
    try {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      if (text.trim() === '') continue;
      const lines = text.split('\n');
      return lines.length > SEED_LINES ? lines.slice(0, SEED_LINES).join('\n') + '\n' : text;
    } catch {
      /* unreadable here: next */
    }
  }
  return null;
}

interface Target {
  name: string;
  module: string;
  fn: Fn;
  argVariants: unknown[][];
}

const targets: Target[] = [];
for (const [file, mod] of modules) {
  for (const [name, value] of Object.entries(mod)) {
    const wanted = /^parse[A-Z0-9]/.test(name) || (EXTRA_FUNCTIONS[file] ?? []).includes(name);
    if (!wanted || typeof value !== 'function') continue;
    targets.push({ name, module: file, fn: value as Fn, argVariants: EXTRA_ARGS[name] ?? [[]] });
  }
}

interface ParseResultShape {
  records: unknown[];
  badLines: number;
  sample: string | null;
  message: string | null;
}

function isParseResult(v: unknown): v is ParseResultShape {
  return typeof v === 'object' && v !== null && 'records' in v && 'badLines' in v;
}

const ran = new Map<string, number>();
function count(name: string, n = 1): void {
  ran.set(name, (ran.get(name) ?? 0) + n);
}

/** Call the parser; assert no throw, bounded time, and a sane shape. */
function check(t: Target, text: string, args: unknown[]): unknown {
  const t0 = performance.now();
  const out = t.fn(text, ...args);
  const ms = performance.now() - t0;
  if (ms > SLOW_CALL_MS) throw new Error(`${t.name} took ${ms.toFixed(0)} ms on ${text.length} chars`);
  if (isParseResult(out)) {
    if (!Array.isArray(out.records)) throw new Error('records is not an array');
    if (!Number.isInteger(out.badLines) || out.badLines < 0) throw new Error(`badLines ${out.badLines}`);
    if (out.sample !== null && (typeof out.sample !== 'string' || out.sample.length > 200)) throw new Error('sample too long');
    if (out.badLines > 0 && out.sample === null) throw new Error('bad lines without a sample');
    if (out.badLines > text.split('\n').length) throw new Error(`more bad lines (${out.badLines}) than lines`);
  }
  count(t.name);
  return out;
}

// ---- arbitraries ---------------------------------------------------------------------------

const controlChars = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 200 });
const token = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFabcdef:'), maxLength: 40 }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('0', '-1', '00000000:0000', '0100007F:1F90', 'FFFFFFFFFFFFFFFFFFFF', '1e400', 'NaN', '__proto__', 'constructor', '0x10', '+5', ''),
);
const lineSoup = fc
  .array(
    fc.tuple(fc.array(token, { maxLength: 20 }), fc.constantFrom(' ', '\t', '  ', ': ')).map(([ts, sep]) => ts.join(sep)),
    { maxLength: 40 },
  )
  .map((ls) => ls.join('\n'));
const garbage = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.string({ unit: 'binary', maxLength: 1000 }),
  controlChars,
  lineSoup,
  fc.constantFrom('', '\n', '\r\n', '\n\n\n', ' ', '\0', '\uFEFF', 'x'.repeat(65_536)),
);

type Mutation =
  | { kind: 'drop'; at: number; len: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'dupLine'; a: number }
  | { kind: 'cutLine'; a: number; at: number }
  | { kind: 'crlf' }
  | { kind: 'replaceLine'; a: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 10 }), token) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('dupLine' as const), a: fc.nat() }),
  fc.record({ kind: fc.constant('cutLine' as const), a: fc.nat(), at: fc.nat() }),
  fc.constant({ kind: 'crlf' as const }),
  fc.record({ kind: fc.constant('replaceLine' as const), a: fc.nat(), text: fc.string({ maxLength: 80 }) }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const pick = (n: number): number => (lines.length === 0 ? 0 : n % lines.length);
  switch (m.kind) {
    case 'drop': {
      const at = text.length === 0 ? 0 : m.at % text.length;
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'insert': {
      const at = text.length === 0 ? 0 : m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'truncate':
      return text.slice(0, text.length === 0 ? 0 : m.at % text.length);
    case 'swapLines': {
      const a = pick(m.a);
      const b = pick(m.b);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'dupLine':
      lines.splice(pick(m.a), 0, lines[pick(m.a)]!);
      return lines.join('\n');
    case 'cutLine': {
      const a = pick(m.a);
      const l = lines[a]!;
      lines[a] = l.slice(0, l.length === 0 ? 0 : m.at % l.length);
      return lines.join('\n');
    }
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'replaceLine':
      lines[pick(m.a)] = m.text;
      return lines.join('\n');
  }
}

/** A line no /proc format accepts: no leading blank, no comment marker, an impossible first field. */
const garbageLine = fc
  .string({ unit: fc.constantFrom(...'ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ!%&*=?'), minLength: 1, maxLength: 30 })
  .map((s) => `@@${s}@@ zz!! ${s}`);

// ---- the table -------------------------------------------------------------------------------

afterAll(() => {
  const total = [...ran.values()].reduce((a, b) => a + b, 0);
  console.log(
    `fuzz: ${targets.length} functions, ${total} calls (${CASES} runs per property)\n` +
      [...ran.entries()].map(([n, c]) => `  ${n.padEnd(20)} ${c}`).join('\n'),
  );
});

describe('every procfs parser is found', () => {
  it('covers every parse* export, including the socket tables', () => {
    const names = targets.map((t) => t.name);
    for (const must of ['parseInetSockets', 'parseUnixSockets', 'parseRoute', 'parseSnmp', 'parseConntrack', 'parseCmdline']) {
      expect(names).toContain(must);
    }
    expect(targets.length).toBeGreaterThanOrEqual(28);
  });
});

describe.each(targets.map((t) => [t.name, t] as const))('%s', (_name, t) => {
  it(`random garbage: never throws, never hangs (${CASES} cases)`, () => {
    fc.assert(
      fc.property(garbage, fc.constantFrom(...t.argVariants), (text, args) => {
        check(t, text, args);
      }),
      { numRuns: CASES },
    );
  });

  const seeds = (SEEDS[t.name] ?? []).map((s) => ({ text: loadSeed(s.files), args: s.args ?? t.argVariants[0]! })).filter((s) => s.text !== null);
  if (seeds.length === 0) return;

  it(`mutated real files: never throws, never hangs (${CASES} cases)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, ms) => {
        check(t, ms.reduce(mutate, seed.text!), seed.args);
      }),
      { numRuns: CASES },
    );
  });

  it(`a data line mangled into garbage is counted (${Math.ceil(CASES / 4)} cases)`, () => {
    for (const seed of seeds) {
      const clean = check(t, seed.text!, seed.args);
      expect(isParseResult(clean)).toBe(true);
      if (!isParseResult(clean) || clean.records.length === 0) continue;
      const lines = seed.text!.split('\n');
      // Data lines: not the header, not blank.
      const dataIdx = lines.map((l, i) => i).filter((i) => i > 0 && lines[i]!.trim() !== '');
      if (dataIdx.length === 0) continue;
      fc.assert(
        fc.property(fc.constantFrom(...dataIdx), garbageLine, (i, bad) => {
          const mangled = [...lines];
          mangled[i] = bad;
          const out = check(t, mangled.join('\n'), seed.args) as ParseResultShape;
          return out.badLines >= 1 || out.message !== null;
        }),
        { numRuns: Math.ceil(CASES / 4) },
      );
    }
  });
});
