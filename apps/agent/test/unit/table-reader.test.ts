// The reader thread hands a big table over in pieces; none may be lost or reordered, even when
// the main thread is busy and several pieces arrive before it looks (as under load at 200k sockets).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TableReader } from '../../src/procfs/table-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'netscope-reader-'));
const reader = new TableReader();
afterAll(async () => {
  await reader.close();
  rmSync(dir, { recursive: true, force: true });
});

const line = (i: number) => `${String(i).padStart(6)}: 0100007F:${(i % 65536).toString(16).toUpperCase().padStart(4, '0')} 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1`;

async function collect(chunks: AsyncIterable<string> | Iterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

describe('TableReader', () => {
  it('streams a 10 MB table whole and in order while the main thread is busy', async () => {
    const text = 'header\n' + Array.from({ length: 70_000 }, (_, i) => line(i)).join('\n') + '\n';
    writeFileSync(join(dir, 'tcp'), text);
    // the first read learns the size (readFile); the next ones go through the worker in pieces
    const first = await reader.stream(dir, 'tcp');
    expect(first.ok && (await collect(first.chunks))).toBe(text);
    for (let round = 0; round < 3; round++) {
      const out = await reader.stream(dir, 'tcp');
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      const until = performance.now() + 300;
      while (performance.now() < until) {
        /* busy: pieces pile up in the port */
      }
      expect(await collect(out.chunks)).toBe(text);
    }
  });

  it('reports a missing table as missing', async () => {
    const out = await reader.stream(dir, 'nope');
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.state).toBe('missing');
  });
});
