/** Helpers for reading vue-router's LocationQuery without pulling the router into plain modules. */
export type QueryValue = string | null | undefined | (string | null)[];
export type QueryInput = Record<string, QueryValue>;

/** First non-empty string for a key, or ''. */
export function queryString(q: QueryInput, key: string): string {
  const v = q[key];
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x === 'string' && x !== '') return x;
    return '';
  }
  return typeof v === 'string' ? v : '';
}

/** Comma-separated (or repeated) values for a key, trimmed, empties dropped. */
export function queryList(q: QueryInput, key: string): string[] {
  const v = q[key];
  const raw = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const x of raw) {
    if (typeof x !== 'string') continue;
    for (const part of x.split(',')) {
      const t = part.trim();
      if (t !== '') out.push(t);
    }
  }
  return out;
}
