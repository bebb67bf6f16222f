import { describe, expect, it } from 'vitest';
import { decodeFlags, IFACE_FLAG_TEXT, ROUTE_FLAG_TEXT } from './flags';

describe('decodeFlags', () => {
  it('decodes route and interface letters, keeping unknown ones', () => {
    expect(decodeFlags('UG', ROUTE_FLAG_TEXT)).toEqual(['up', 'via gateway']);
    expect(decodeFlags('UH!', ROUTE_FLAG_TEXT)).toEqual(['up', 'host route', 'reject']);
    expect(decodeFlags('BMRU', IFACE_FLAG_TEXT)).toEqual(['broadcast', 'promiscuous (all multicast)', 'running', 'up']);
    expect(decodeFlags('Z', ROUTE_FLAG_TEXT)).toEqual(['Z']);
  });
});
