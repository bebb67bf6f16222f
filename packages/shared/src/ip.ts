/** IP address helpers shared by the page (filters, CIDR) and the agent. */

/** Parse IPv4 dotted quad or IPv6 text to a 16-byte array (IPv4 as v4-mapped), or null. */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim();
  if (s.includes(':')) return parseIpv6(s);
  const v4 = parseIpv4(s);
  if (!v4) return null;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | null {
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (!tail) return null;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const groups = h.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

export interface Cidr {
  bytes: Uint8Array;
  /** Prefix length over the 128-bit form (IPv4 prefixes are offset by 96). */
  bits: number;
}

/** Parse `10.0.0.0/8`, `fe80::/10` or a bare address (full-length prefix); null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const [addr, len, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined) return null;
  const bytes = parseIp(addr);
  if (!bytes) return null;
  const isV4 = !addr.includes(':');
  const max = isV4 ? 32 : 128;
  let prefix = max;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return null;
    prefix = Number(len);
    if (prefix > max) return null;
  }
  return { bytes, bits: isV4 ? prefix + 96 : prefix };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const bytes = parseIp(address);
  if (!bytes) return false;
  let bits = cidr.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

export type AddressScope = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'public';

const SCOPES: [string, AddressScope][] = [
  ['0.0.0.0/32', 'unspecified'],
  ['::/128', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['::1/128', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'private'],
  ['fc00::/7', 'private'],
  ['169.254.0.0/16', 'link-local'],
  ['fe80::/10', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
];
const SCOPE_CIDRS = SCOPES.map(([c, s]) => [parseCidr(c)!, s] as const);

/** Classify an address for the remote view: loopback, private (RFC 1918, CGNAT, ULA), link-local, public. */
export function addressScope(address: string): AddressScope {
  for (const [cidr, scope] of SCOPE_CIDRS) if (cidrContains(cidr, address)) return scope;
  return 'public';
}
