import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring';

describe('RingBuffer', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const r = new RingBuffer<number>(3);
    expect(r.toArray()).toEqual([]);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.length).toBe(3);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.at(0)).toBe(3);
    expect(r.at(-1)).toBe(5);
    expect(r.last()).toBe(5);
    expect(r.at(3)).toBeUndefined();
    expect(r.map((x, i) => x * 10 + i)).toEqual([30, 41, 52]);
  });
  it('stays bounded after a day of ticks', () => {
    const r = new RingBuffer<{ t: number }>(600);
    for (let i = 0; i < 86_400; i++) r.push({ t: i });
    expect(r.length).toBe(600);
    expect(r.at(0)!.t).toBe(86_400 - 600);
  });
  it('clear and bad capacity', () => {
    const r = new RingBuffer<number>(2);
    r.push(1);
    r.clear();
    expect(r.length).toBe(0);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
