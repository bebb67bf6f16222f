/**
 * The running agent's young generation (heap.ts): held at YOUNG_HOLD_BYTES while its heap is small,
 * left to V8 when node is given its own semi-space setting. Measured from /api/health's
 * memory.newSpaceBytes over 3 s of 100 ms ticks on 4,000 generated sockets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { YOUNG_HOLD_BYTES } from '../../src/heap.js';
import { httpGet, makeProcTree, startAgent, type ProcTree } from './helpers/agent.js';

const trees: ProcTree[] = [];
afterAll(() => trees.forEach((t) => t.cleanup()));

async function newSpaceSamples(nodeArgs: string[]): Promise<number[]> {
  const t = makeProcTree({ tcpCount: 4000, withAggregates: true });
  trees.push(t);
  const a = await startAgent([...t.args, '--port', '0', '--interval', '100'], { nodeArgs });
  try {
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const r = await httpGet(a.port, '/api/health');
      expect(r.status).toBe(200);
      seen.push((JSON.parse(r.body) as { memory: { newSpaceBytes: number } }).memory.newSpaceBytes);
    }
    return seen;
  } finally {
    await a.stop();
  }
}

describe('young generation', () => {
  it('stays at the hold size on a small heap', async () => {
    const seen = await newSpaceSamples([]);
    expect(Math.min(...seen)).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(YOUNG_HOLD_BYTES);
  });

  it('is left to V8 when node is given its own semi-space growth (and V8 grows it past the hold size)', async () => {
    const seen = await newSpaceSamples(['--semi-space-growth-factor=2']);
    expect(Math.max(...seen)).toBeGreaterThan(YOUNG_HOLD_BYTES);
  });
});
