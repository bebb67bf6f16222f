/**
 * Query parameters of the table APIs (/api/connections, /api/processes/:key, /api/remote): each
 * bad one is a BadRequest whose message names it, answered as a 400.
 */
export type Params = Record<string, unknown>;

export class BadRequest extends Error {}

/** The text of a parameter given once; null when absent. */
export function oneString(params: Params, name: string): string | null {
  const v = params[name];
  if (v === undefined) return null;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be given once`);
  return v;
}

/** Every parameter is one of `known`. */
export function onlyKnown(params: Params, known: Iterable<string>): void {
  const list = [...known];
  for (const name of Object.keys(params)) {
    if (!list.includes(name)) throw new BadRequest(`unknown parameter "${name.slice(0, 40)}"; known: ${list.join(', ')}`);
  }
}

/** A parameter whose text must be one of `values`; `fallback` when absent. */
export function oneOf<T extends string>(params: Params, name: string, values: readonly T[], fallback: T): T;
export function oneOf<T extends string>(params: Params, name: string, values: readonly T[], fallback: null): T | null;
export function oneOf<T extends string>(params: Params, name: string, values: readonly T[], fallback: T | null): T | null {
  const v = oneString(params, name);
  if (v === null) return fallback;
  if (!(values as readonly string[]).includes(v)) throw new BadRequest(`${name} must be one of ${values.join(', ')}, got "${v.slice(0, 40)}"`);
  return v as T;
}

/** `dir=asc|desc`; `fallback` when absent. */
export function direction<F extends 'asc' | 'desc' | null>(params: Params, fallback: F): 'asc' | 'desc' | F {
  const dir = oneString(params, 'dir');
  if (dir === null) return fallback;
  if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`dir must be asc or desc, got "${dir.slice(0, 40)}"`);
  return dir;
}
