import { describe, expect, it } from 'vitest';
import { parseStreamQuery } from '../src/index.js';

const parse = (query: string) => parseStreamQuery(new URLSearchParams(query));

describe('parseStreamQuery (/ws?…)', () => {
  it.each([
    ['', { view: 'full', aggregates: 'whole' }],
    ['view=full', { view: 'full', aggregates: 'whole' }],
    ['view=summary', { view: 'summary', aggregates: 'whole' }],
    ['aggregates=patch', { view: 'full', aggregates: 'patch' }],
    ['view=summary&aggregates=patch', { view: 'summary', aggregates: 'patch' }],
    ['aggregates=whole&cache=1', { view: 'full', aggregates: 'whole' }],
  ])('%j → %j', (query, expected) => {
    expect(parse(query)).toEqual(expected);
  });

  it.each([
    ['view=sumary', /unknown view "sumary": use full or summary/],
    ['view=', /unknown view "": use full or summary/],
    ['view=Summary', /unknown view "Summary"/],
    ['aggregates=diff', /unknown aggregates "diff": use whole or patch/],
    ['view=full&view=summary', /view given 2 times/],
    [`view=${'x'.repeat(500)}`, /^unknown view "x{40}": use/],
    ['view=%0d%0aX-Evil:%201', /unknown view "\\r\\nX-Evil: 1"/],
  ])('%j is refused: %s', (query, message) => {
    const got = parse(query);
    expect(got).toHaveProperty('error');
    expect((got as { error: string }).error).toMatch(message);
  });
});
