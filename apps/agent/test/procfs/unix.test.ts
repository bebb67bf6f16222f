/**
 * /proc/net/unix parser: inline tables of good and hostile lines, the captured live-loopback
 * fixture, property tests, and the real kernel (sockets opened here).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { UnixState, UnixType } from '@netscope/shared';
import { parseUnixSockets, type RawUnixSocket } from '../../src/procfs/unix.js';

const RUNS = 1000;
const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path';

/** Real lines from this machine's /proc/net/unix (kernel 6.18). */
const REAL = {
  connected: '00000000d0b4ab79: 00000003 00000000 00000000 0001 03  1677',
  listenerWithSpaces:
    '00000000c7bb5693: 00000002 00000000 00010000 0001 01 103125 /tmp/netscope-capture-w9ikSk/dir with spaces/netscope  listener.sock',
  dgram: '0000000053e8d726: 00000002 00000000 00000000 0002 01 103021 /tmp/netscope-capture-w9ikSk/dgram sock',
  leadAndTrail: '00000000f4237b5a: 00000002 00000000 00010000 0001 01 103022  lead and trail ',
  abstract: '00000000bd02d920: 00000002 00000000 00010000 0001 01 103019 @netscope-capture-abstract',
  abstractEmbedded: '00000000683cae36: 00000002 00000000 00010000 0001 01 103020 @netscope@embedded',
  nodeAbstract:
    '00000000e4e7571e: 00000002 00000000 00010000 0001 01 103128 @netscope-node-abstract-14585@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
};

interface Spec {
  num?: string;
  refCount?: number;
  flags?: number;
  type?: number;
  st?: number;
  inode?: number;
  path?: string | null;
}

const HEX = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** `%pK: %08X %08X %08X %04X %02X %5lu` then ` <path>` when bound. */
function uline(s: Spec): string {
  const head =
    `${s.num ?? '0000000000000000'}: ${HEX(s.refCount ?? 2, 8)} 00000000 ${HEX(s.flags ?? 0, 8)} ` +
    `${HEX(s.type ?? 1, 4)} ${HEX(s.st ?? 3, 2)} ${String(s.inode ?? 12345).padStart(5)}`;
  return s.path === null || s.path === undefined ? head : `${head} ${s.path}`;
}

const file = (...lines: string[]): string => [HEADER, ...lines].join('\n') + '\n';
const one = (line: string): ReturnType<typeof parseUnixSockets> => parseUnixSockets(file(line));

/* ======================================================================================== */

describe('parseUnixSockets: good lines', () => {
  it('reads a real connected socket without a name (inode padded to 5)', () => {
    const r = one(REAL.connected);
    expect(r).toMatchObject({ badLines: 0, sample: null, message: null });
    expect(r.records).toEqual<RawUnixSocket[]>([
      {
        refCount: 3,
        flags: 0,
        acceptCon: false,
        typeCode: 1,
        type: 'STREAM',
        stateCode: 3,
        state: 'CONNECTED',
        inode: 1677,
        path: null,
        abstract: false,
      },
    ]);
  });

  it.each([
    ['listener, spaces (one doubled) in the path', REAL.listenerWithSpaces, '/tmp/netscope-capture-w9ikSk/dir with spaces/netscope  listener.sock', false],
    ['datagram, a space in the path', REAL.dgram, '/tmp/netscope-capture-w9ikSk/dgram sock', false],
    ['relative name with leading and trailing spaces', REAL.leadAndTrail, ' lead and trail ', false],
    ['abstract', REAL.abstract, '@netscope-capture-abstract', true],
    ['abstract with an embedded NUL', REAL.abstractEmbedded, '@netscope@embedded', true],
    ['Node abstract, NUL padding shown as @', REAL.nodeAbstract, `@netscope-node-abstract-14585${'@'.repeat(79)}`, true],
  ])('keeps the name exactly: %s', (_, line, path, abstract) => {
    const r = one(line);
    expect(r.badLines).toBe(0);
    expect(r.records[0]).toMatchObject({ path, abstract });
  });

  it('reads listeners: flag __SO_ACCEPTCON → acceptCon and LISTENING', () => {
    const [s] = one(REAL.listenerWithSpaces).records;
    expect(s).toMatchObject({ flags: 0x10000, acceptCon: true, stateCode: 1, state: 'LISTENING', type: 'STREAM', inode: 103125 });
    const [d] = one(REAL.dgram).records;
    expect(d).toMatchObject({ acceptCon: false, stateCode: 1, state: 'UNCONNECTED', type: 'DGRAM' });
  });

  it.each([
    [1, 'STREAM'],
    [2, 'DGRAM'],
    [3, 'RAW'],
    [4, 'RDM'],
    [5, 'SEQPACKET'],
    [0, 'UNKNOWN'],
    [6, 'UNKNOWN'],
    [0xffff, 'UNKNOWN'],
  ] as const)('type %i → %s', (type, name: UnixType) => {
    expect(one(uline({ type })).records[0]).toMatchObject({ typeCode: type, type: name });
  });

  it.each([
    [0, 0, 'FREE'],
    [1, 0, 'UNCONNECTED'],
    [1, 0x10000, 'LISTENING'],
    [2, 0, 'CONNECTING'],
    [3, 0, 'CONNECTED'],
    [3, 0x10000, 'CONNECTED'],
    [4, 0, 'DISCONNECTING'],
    [5, 0, 'UNKNOWN'],
    [0xff, 0x10000, 'UNKNOWN'],
  ] as const)('state %i with flags %i → %s', (st, flags, name: UnixState) => {
    const r = one(uline({ st, flags }));
    expect(r.badLines).toBe(0);
    expect(r.records[0]).toMatchObject({ stateCode: st, state: name, acceptCon: flags !== 0 });
  });

  it('reads large counters and flags, and a hidden (%pK) pointer', () => {
    const [s] = one(uline({ num: '0000000000000000', refCount: 0xffffffff, flags: 0xffffffff, inode: 4294967295 })).records;
    expect(s).toMatchObject({ refCount: 4294967295, flags: 4294967295, acceptCon: true, inode: 4294967295 });
  });

  it('a name may itself look like fields, or be a lone @', () => {
    expect(one(uline({ path: '00000002 00000000 00010000 0001 01 1 /x' })).records[0]?.path).toBe('00000002 00000000 00010000 0001 01 1 /x');
    expect(one(uline({ path: '@' })).records[0]).toMatchObject({ path: '@', abstract: true });
    expect(one(uline({ path: '/tmp/\tt\u00e9st \u{1F600}' })).records[0]?.path).toBe('/tmp/\tt\u00e9st \u{1F600}');
  });

  it('reads a file without a header', () => {
    const r = parseUnixSockets(`${REAL.connected}\n${REAL.abstract}\n`);
    expect(r).toMatchObject({ badLines: 0, message: null });
    expect(r.records).toHaveLength(2);
  });

  it('CRLF files lose the CR; in an LF file a trailing CR belongs to the name', () => {
    const crlf = parseUnixSockets([HEADER, REAL.dgram, REAL.connected, ''].join('\r\n'));
    expect(crlf.badLines).toBe(0);
    expect(crlf.records.map((s) => s.path)).toEqual(['/tmp/netscope-capture-w9ikSk/dgram sock', null]);
    expect(one(uline({ path: '/tmp/x\r' })).records[0]?.path).toBe('/tmp/x\r');
  });

  it('ignores blank lines', () => {
    const r = parseUnixSockets(`${HEADER}\n\n${REAL.connected}\n  \n`);
    expect(r).toMatchObject({ badLines: 0, message: null });
    expect(r.records).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['header only', `${HEADER}\n`],
    ['header without newline', HEADER],
  ])('%s: no records, nothing wrong', (_, text) => {
    expect(parseUnixSockets(text)).toEqual({ records: [], badLines: 0, sample: null, message: null });
  });
});

describe('parseUnixSockets: hostile lines', () => {
  it.each([
    ['too few fields', '0000000000000000: 00000002 00000000 00010000 0001 01', 'too few fields (6 of 7)'],
    ['garbage', 'hello', 'too few fields (1 of 7)'],
    ['long garbage', 'this is not a unix socket line at all', 'bad num "this"'],
    ['num without colon', '0000000000000000 00000002 00000000 00010000 0001 01 1', 'bad num "0000000000000000"'],
    ['refcount not hex', uline({}).replace(' 00000002 ', ' 0000000G '), 'bad refcount "0000000G"'],
    ['protocol not hex', uline({}).replace(' 00000000 ', ' -0000000 '), 'bad protocol "-0000000"'],
    ['flags not hex', '0000000000000000: 00000002 00000000 0001000x 0001 01 1', 'bad flags "0001000x"'],
    ['type not hex', '0000000000000000: 00000002 00000000 00010000 000Z 01 1', 'bad type "000Z"'],
    ['state not hex', '0000000000000000: 00000002 00000000 00010000 0001 0Z 1', 'bad state "0Z"'],
    ['inode with letters', '0000000000000000: 00000002 00000000 00010000 0001 01 12a4 /x', 'bad inode "12a4"'],
    ['negative inode', '0000000000000000: 00000002 00000000 00010000 0001 01 -1', 'bad inode "-1"'],
    ['inode too long', '0000000000000000: 00000002 00000000 00010000 0001 01 1234567890123456', 'bad inode "1234567890123456"'],
    ['refcount too long', '0000000000000000: 00000002000000000 00000000 00010000 0001 01 1', 'bad refcount "00000002000000000"'],
    ['a second header', HEADER, 'bad num "Num"'],
    ['an inet line', '   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1681', 'bad refcount "0100007F:0050"'],
  ])('%s → one bad line, reason with the raw token', (_, line, reason) => {
    const r = one(line);
    expect(r.records).toEqual([]);
    expect(r.badLines).toBe(1);
    expect(r.sample).toContain(reason);
  });

  it('a last line without its newline may have lost part of its name: bad, not trusted', () => {
    const r = parseUnixSockets(`${HEADER}\n${REAL.connected}\n${REAL.listenerWithSpaces.slice(0, -8)}`);
    expect(r.records).toHaveLength(1);
    expect(r.badLines).toBe(1);
    expect(r.sample).toMatch(/^truncated last line \(no newline\): 00000000c7bb5693: /);
  });

  it('a name holding a newline: the first part is kept, the rest is one bad line', () => {
    const r = one(uline({ path: '/tmp/evil\nname', inode: 9 }));
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ inode: 9, path: '/tmp/evil' });
    expect(r.badLines).toBe(1);
    expect(r.sample).toBe('too few fields (1 of 7): name');
  });

  it('counts each bad line once and keeps the first as the sample', () => {
    const r = parseUnixSockets(file(REAL.connected, 'junk', REAL.abstract, 'Num RefCount', '0: 1', REAL.dgram));
    expect(r.records.map((s) => s.inode)).toEqual([1677, 103019, 103021]);
    expect(r.badLines).toBe(3);
    expect(r.sample).toBe('too few fields (1 of 7): junk');
  });

  it.each([
    ['an inet header', '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'],
    ['junk', 'x'],
  ])('a first line that is %s → message, and the lines after are still read', (_, first) => {
    const r = parseUnixSockets(`${first}\n${REAL.connected}\n`);
    expect(r.message).toMatch(/^unrecognised header "/);
    expect(r.records).toHaveLength(1);
  });

  it('never throws on odd text', () => {
    for (const text of ['\u0000', ':', '0:', '\r\n\r\n', '\uD800', 'Num', '0: '.repeat(1000), 'f'.repeat(10_000) + ':', '\r']) {
      expect(() => parseUnixSockets(text)).not.toThrow();
    }
  });

  it('parses a file of 200k lines', () => {
    const lines = [HEADER];
    const head = '0000000000000000: 00000002 00000000 00000000 0001 03 ';
    for (let i = 0; i < 200_000; i++) {
      const inode = String(i + 1).padStart(5);
      lines.push(i % 3 === 0 ? head + inode : i % 3 === 1 ? `${head}${inode} /run/s ${i}.sock` : `${head}${inode} @abs${i}`);
    }
    const r = parseUnixSockets(lines.join('\n') + '\n');
    expect(r.badLines).toBe(0);
    expect(r.records).toHaveLength(200_000);
    expect(r.records[199_999]).toMatchObject({ inode: 200_000, path: '/run/s 199999.sock', abstract: false });
    expect(r.records[199_998]).toMatchObject({ path: null });
    expect(r.records[199_997]).toMatchObject({ path: '@abs199997', abstract: true });
  });
});

/* ======================================================================================== */

describe('parseUnixSockets: properties', () => {
  // Plain comparisons that throw inside properties: vitest's expect is too slow for 1000 cases.
  const nameChar = fc.oneof(
    fc.constantFrom(' ', '@', '/', '\t', '\r', '.', ':', '\u0000', '\u00e9', '\uFFFD'),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  );
  const name = fc.string({ unit: nameChar, minLength: 1, maxLength: 108 }).filter((s) => !s.includes('\n'));
  const spec = fc.record({
    num: fc.stringMatching(/^[0-9a-f]{16}$/),
    refCount: fc.integer({ min: 0, max: 0xffffffff }),
    flags: fc.integer({ min: 0, max: 0xffffffff }),
    type: fc.integer({ min: 0, max: 0xffff }),
    st: fc.integer({ min: 0, max: 0xff }),
    inode: fc.integer({ min: 0, max: 0xffffffff }),
    path: fc.option(name, { nil: null }),
  });
  const TYPES: Record<number, UnixType> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET' };
  const STATES: UnixState[] = ['FREE', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];

  function mismatch(got: RawUnixSocket, s: Required<Spec>): string | null {
    const acc = Math.floor(s.flags / 0x10000) % 2 === 1;
    const want: RawUnixSocket = {
      refCount: s.refCount,
      flags: s.flags,
      acceptCon: acc,
      typeCode: s.type,
      type: TYPES[s.type] ?? 'UNKNOWN',
      stateCode: s.st,
      state: s.st === 1 && acc ? 'LISTENING' : (STATES[s.st] ?? 'UNKNOWN'),
      inode: s.inode,
      path: s.path,
      abstract: s.path !== null && s.path.startsWith('@'),
    };
    for (const k of Object.keys(want) as (keyof RawUnixSocket)[]) {
      if (got[k] !== want[k]) return `${k}: got ${JSON.stringify(got[k])}, want ${JSON.stringify(want[k])}`;
    }
    return null;
  }

  it('a kernel-formatted line round-trips, the name kept exactly', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 6 }), (specs) => {
        const r = parseUnixSockets(file(...specs.map(uline)));
        if (r.badLines !== 0 || r.records.length !== specs.length) throw new Error(`${r.records.length} records: ${r.sample}`);
        r.records.forEach((got, i) => {
          const m = mismatch(got, specs[i]!);
          if (m !== null) throw new Error(m);
        });
      }),
      { numRuns: RUNS },
    );
  });

  const hostileChar = fc.constantFrom(' ', '\t', '\r', '\n', ':', '0', '1', 'F', 'z', '@', '/', '-', '\u0000', '\uFFFD', '\uD800');
  const junkLine = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 120 }),
    fc.string({ unit: hostileChar, maxLength: 160 }),
    fc.array(fc.stringMatching(/^[0-9A-Fa-f:x@/-]{0,20}$/), { maxLength: 10 }).map((t) => t.join(' ')),
    fc.tuple(spec, fc.nat(), hostileChar).map(([s, at, c]) => {
      const l = uline(s);
      const i = at % (l.length + 1);
      return at % 2 === 0 ? l.slice(0, i) + l.slice(i + 1) : l.slice(0, i) + c + l.slice(i + 1);
    }),
  );

  it('random text never throws and never yields a malformed record', () => {
    fc.assert(
      fc.property(fc.array(junkLine, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const text = lines.join(eol);
        const r = parseUnixSockets(text);
        if (r.records.length + r.badLines > text.split('\n').length) throw new Error('more results than lines');
        for (const s of r.records) {
          if (!Number.isSafeInteger(s.inode) || s.inode < 0) throw new Error(`inode ${s.inode}`);
          if (s.path !== null && (s.path === '' || s.path.includes('\n'))) throw new Error(`path ${JSON.stringify(s.path)}`);
          if (s.abstract !== (s.path?.startsWith('@') ?? false)) throw new Error('abstract flag');
        }
      }),
      { numRuns: RUNS },
    );
  });

  const BAD_TOKENS: readonly (readonly string[])[] = [
    ['0000000000000000', 'zz:', ':', '-1:'],
    ['G', '-1', '0x1', '00000002000000000'],
    ['G', '-', '0:'],
    ['0001000x', '-1'],
    ['000Z', '+1'],
    ['0Z', '-'],
    ['12a4', '-1', 'x', '1234567890123456'],
  ];

  it('each bad line is counted exactly once, and every good line is kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(spec, fc.boolean(), fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.nat()), { maxLength: 12 }),
        (items) => {
          const lines = items.map(([s, ok, field, cut, pick]) => {
            if (ok) return uline(s);
            const parts = uline({ ...s, path: null }).trim().split(/ +/);
            if (cut) return parts.slice(0, Math.max(1, field)).join(' ');
            const choices = BAD_TOKENS[field]!;
            parts[field] = choices[pick % choices.length]!;
            return s.path === null ? parts.join(' ') : `${parts.join(' ')} ${s.path}`;
          });
          const good = items.filter(([, ok]) => ok).length;
          const r = parseUnixSockets(file(...lines));
          if (r.records.length !== good) throw new Error(`${r.records.length} records, want ${good}`);
          if (r.badLines !== items.length - good) throw new Error(`${r.badLines} bad, want ${items.length - good}: ${r.sample}`);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/* ======================================================================================== */

interface ExpectedUnix {
  path: string | null;
  abstract: boolean;
  type: UnixType;
  state: UnixState;
  note: string;
}
const FIXTURE = new URL('../fixtures/proc/live-loopback/', import.meta.url);

describe('the captured live-loopback fixture', () => {
  const text = readFileSync(new URL('net/unix', FIXTURE), 'utf8');
  const expected = (JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as { unix: ExpectedUnix[] }).unix;
  const r = parseUnixSockets(text);

  it('every line parses, none is bad', () => {
    expect(r.message).toBeNull();
    expect(r.badLines).toBe(0);
    expect(r.records).toHaveLength(text.split('\n').filter((l) => l !== '').length - 1);
  });

  it.each(expected.map((e) => [`${e.state} ${e.type} ${JSON.stringify(e.path)} (${e.note})`, e] as const))('has %s', (_, e) => {
    const found = r.records.filter((s) => s.path === e.path && s.type === e.type && s.state === e.state);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found[0]!.abstract).toBe(e.abstract);
    expect(found[0]!.acceptCon).toBe(e.state === 'LISTENING');
  });
});

/* ======================================================================================== */

describe.skipIf(!(process.platform === 'linux' && existsSync('/proc/net/unix')))('the real kernel', () => {
  it('lists the unix sockets this test opens, names exactly as bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netscope unix test '));
    const open: { close(): void }[] = [];
    try {
      const path = join(dir, 'two  spaces @ and more.sock');
      const abstract = `\0netscope-unix-test-${process.pid}`;
      for (const where of [path, abstract]) {
        const server = net.createServer((s) => open.push({ close: () => s.destroy() }));
        open.push({ close: () => server.close() });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(where, resolve);
        });
      }
      const client = net.connect(path);
      open.push({ close: () => client.destroy() });
      await new Promise<void>((resolve, reject) => {
        client.once('error', reject);
        client.once('connect', resolve);
      });
      await new Promise((r) => setTimeout(r, 50));

      const r = parseUnixSockets(readFileSync('/proc/net/unix', 'utf8'));
      expect(r.message).toBeNull();
      expect(r.badLines).toBe(0);
      const withPath = r.records.filter((s) => s.path === path);
      expect(withPath.map((s) => s.state).sort()).toEqual(['CONNECTED', 'LISTENING']);
      expect(withPath.every((s) => s.type === 'STREAM' && !s.abstract && s.inode > 0)).toBe(true);
      // Node binds abstract names with the whole sun_path; the padding NULs print as '@'.
      const abs = r.records.filter((s) => s.path?.startsWith(`@netscope-unix-test-${process.pid}`));
      expect(abs).toHaveLength(1);
      expect(abs[0]).toMatchObject({ abstract: true, state: 'LISTENING', acceptCon: true });
      expect(abs[0]!.path).toMatch(/^@netscope-unix-test-\d+@*$/);
    } finally {
      for (const o of open.reverse()) o.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
