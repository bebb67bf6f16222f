import { describe, expect, it } from 'vitest';
import type { DeltaMessage, Snapshot } from '@netscope/shared';
import { serialiseDelta, serialiseSnapshot } from '../../src/server/stream.js';

const sockets = Array.from({ length: 12_345 }, (_, i) => ({
  id: `tcp #${i}`,
  path: i % 7 === 0 ? `/run/$&$'$\`-"quoted"-\\-${i}-netscope-slice-x-0` : null,
  n: i,
}));

describe('sliced serialisation of big messages', () => {
  it('a snapshot message equals JSON.stringify of it, whatever the strings hold', async () => {
    const snap = { version: 1, seq: 42, time: 1, sockets, processes: { '1': { pid: 1, program: '"x"' } } } as unknown as Snapshot;
    const text = await serialiseSnapshot(snap);
    expect(JSON.parse(text)).toEqual({ type: 'snapshot', v: 1, seq: 42, snapshot: snap });
  });

  it('a delta message equals JSON.stringify of it, empty arrays included', async () => {
    const delta = {
      type: 'delta',
      v: 1,
      seq: 2,
      baseSeq: 1,
      time: 1,
      sockets: { added: sockets, changed: [], removed: ['a', 'b'] },
      aggregates: {},
    } as unknown as DeltaMessage;
    expect(JSON.parse(await serialiseDelta(delta))).toEqual(delta);
  });

  it('yields to the event loop between slices', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const snap = { seq: 1, sockets: Array.from({ length: 50_000 }, (_, i) => ({ i })) } as unknown as Snapshot;
    await serialiseSnapshot(snap);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
