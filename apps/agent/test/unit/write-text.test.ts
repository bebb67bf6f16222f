import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeTextSync } from '../../src/write-text.js';

const dir = mkdtempSync(join(tmpdir(), 'netscope-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What writeTextSync put in a file, as bytes. */
function written(text: string, chunkUnits?: number): Buffer {
  const path = join(dir, 'out');
  const fd = openSync(path, 'w');
  try {
    writeTextSync(fd, text, { chunkUnits });
  } finally {
    closeSync(fd);
  }
  return readFileSync(path);
}

describe('writeTextSync', () => {
  it('writes the bytes Buffer.from gives, at every chunk size, surrogate pairs and lone ones included', () => {
    // strings of ASCII, 2- and 3-byte characters, astral ones (surrogate pairs) and lone surrogates
    const piece = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('é', 'ж', '€', '“', '😀', '𝄞', '\ud800', '\udc00', '\n', '"'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 1, max: 9 }), (pieces, units) => {
        const text = pieces.join('');
        expect(written(text, units).equals(Buffer.from(text))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes a 10 MB text whole with its default chunks, and nothing for an empty one', () => {
    const text = JSON.stringify(Array.from({ length: 120_000 }, (_, i) => ({ id: `tcp 127.0.0.1:${i} “x” 😀`, n: i })));
    expect(text.length).toBeGreaterThan(5_000_000);
    expect(written(text).equals(Buffer.from(text))).toBe(true);
    expect(written('').length).toBe(0);
  });

  it('keeps writing after short writes and EAGAIN, and throws any other error', () => {
    const out: number[] = [];
    let calls = 0;
    const write = (_fd: number, buf: Uint8Array, offset: number, length: number) => {
      calls++;
      if (calls % 3 === 0) throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' });
      const n = Math.min(length, 2); // two bytes at a time
      out.push(...buf.subarray(offset, offset + n));
      return n;
    };
    writeTextSync(99, 'héllo “wörld” 😀', { chunkUnits: 4, write });
    expect(Buffer.from(out).toString('utf8')).toBe('héllo “wörld” 😀');
    const epipe = () => {
      throw Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
    };
    expect(() => writeTextSync(99, 'x', { write: epipe })).toThrow(/EPIPE/);
  });
});

describe('--once into a pipe', () => {
  it('prints one whole JSON line to a reader, and exits 0 when the reader leaves early', async () => {
    const main = join(__dirname, '../../dist/main.js');
    // whole: `node main.js --once --proc-root <fixture>`… the live /proc serves as well here
    const run = (cmd: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const whole = await run(`node ${main} --once | cat`);
    expect(whole.code).toBe(0);
    expect(whole.out.endsWith('}\n')).toBe(true);
    expect(JSON.parse(whole.out).sockets.length).toBeGreaterThan(0);
    // the reader takes 100 bytes and leaves: the agent's status (PIPESTATUS[0]) is 0, stderr empty
    // (both writers: --pretty's JSON.stringify text, and the compact one's byte buffer, once-json.ts)
    for (const flags of ['--pretty', '']) {
      const early = await run(`node ${main} --once ${flags} | head -c 100 > /dev/null; echo "status \${PIPESTATUS[0]}" >&2`);
      expect(early.err, `--once ${flags}`).toBe('status 0\n');
    }
  }, 60_000);
});
