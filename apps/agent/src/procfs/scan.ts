/**
 * Char-code scanning shared by the socket-table parsers (inet.ts, unix.ts). They read `text`
 * between offsets and return -1 for anything malformed, so the hot loop never allocates for a
 * good line's numeric fields.
 */

/** Longest hex run decoded to a number: 13 digits = 52 bits, still an exact double (as parseHex). */
export const MAX_HEX_DIGITS = 13;
/** Longest decimal run: 15 digits always fits an exact double. */
export const MAX_DEC_DIGITS = 15;

export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const lower = c | 32;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f, A-F
  return -1;
}

/** Field separator: space, tab, the CR of CRLF files; any other control character too. */
export function isSpace(c: number): boolean {
  return c <= 32;
}

export function skipSpace(text: string, i: number, end: number): number {
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Does a field end at offset i (whitespace or the end of the line)? */
export function fieldEndsAt(text: string, i: number, end: number): boolean {
  return i === end || (i >= 0 && i < end && isSpace(text.charCodeAt(i)));
}

/** Value read by the last successful scanHex/scanDec (read it right after the call). */
export let scanned = 0;

/** Hex digits from text[i] (at most `max`); sets `scanned`; returns the offset after them, -1 when none or too many. */
export function scanHex(text: string, i: number, end: number, max = MAX_HEX_DIGITS): number {
  const start = i;
  let v = 0;
  for (; i < end; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) break;
    v = v * 16 + d;
  }
  if (i === start || i - start > max) return -1;
  scanned = v;
  return i;
}

/** Decimal digits from text[i]; sets `scanned`; returns the offset after them, -1 when none or too many. */
export function scanDec(text: string, i: number, end: number): number {
  const start = i;
  let v = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  if (i === start || i - start > MAX_DEC_DIGITS) return -1;
  scanned = v;
  return i;
}

/** The whitespace-separated tokens of text[from, to), at most `max`. Slow path only. */
export function tokens(text: string, from: number, to: number, max: number): string[] {
  const out: string[] = [];
  let i = skipSpace(text, from, to);
  while (i < to && out.length < max) {
    let j = i;
    while (j < to && !isSpace(text.charCodeAt(j))) j++;
    out.push(text.slice(i, j));
    i = skipSpace(text, j, to);
  }
  return out;
}
