/** Decoding netstat's flag letters: route flags (-r) and interface flags (-i). */

export const ROUTE_FLAG_TEXT: Readonly<Record<string, string>> = {
  U: 'up',
  G: 'via gateway',
  H: 'host route',
  R: 'reinstate (dynamic routing)',
  D: 'dynamic (redirect)',
  M: 'modified (redirect)',
  A: 'added by addrconf',
  C: 'cache entry',
  '!': 'reject',
  n: 'no next hop',
  e: 'expires',
};

export const IFACE_FLAG_TEXT: Readonly<Record<string, string>> = {
  B: 'broadcast',
  L: 'loopback',
  M: 'promiscuous (all multicast)',
  N: 'no trailers',
  O: 'no ARP',
  P: 'point-to-point',
  R: 'running',
  U: 'up',
  m: 'master',
  s: 'slave',
  d: 'dynamic',
};

/** "UG" → ["up", "via gateway"]; unknown letters are kept as themselves. */
export function decodeFlags(flags: string, table: Readonly<Record<string, string>>): string[] {
  return [...flags].map((c) => table[c] ?? c);
}
