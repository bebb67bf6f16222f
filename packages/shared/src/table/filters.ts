/**
 * The /connections filter: netstat's flags (-t -u -w -x, -l/-a, -4/-6) plus state, port, address
 * or CIDR and process search. Lives in the URL query so reloads and bookmarks keep it.
 *
 * compileFilter turns a filter into one predicate that runs over every socket of every tick, so it
 * does the parsing once and keeps the per-socket work to comparisons and memoised lookups.
 */
import { parseCidr, type Cidr } from '../ip.js';
import { TCP_STATES, UNIX_STATES, type ProcessInfo, type Socket } from '../schema.js';
import { cidrTester } from './ipfast.js';
import { queryList, queryString, type QueryInput } from './query.js';

/** netstat's protocol flags: -t tcp, -u udp (and udplite), -w raw, -x unix. */
export type ProtoFlag = 't' | 'u' | 'w' | 'x';
export const PROTO_FLAGS: readonly ProtoFlag[] = ['t', 'u', 'w', 'x'];
export const DEFAULT_PROTOS: readonly ProtoFlag[] = ['t', 'u', 'w'];

/** -a all, -l listening only, default netstat: connected (non-listening) only. */
export type ShowMode = 'all' | 'listening' | 'connected';
export type FamilyFilter = 'any' | '4' | '6';

export interface ConnectionFilter {
  protos: ProtoFlag[];
  show: ShowMode;
  family: FamilyFilter;
  /** State names (TCP or unix); empty = any. SYN_RECV also matches NEW_SYN_RECV, as netstat shows it. */
  states: string[];
  /** Port spec: `443`, `80,443`, `8000-8100`, `https` (service name); matches local or remote. */
  port: string;
  /** Address, prefix text or CIDR; matches local or remote (or unix path). */
  addr: string;
  /** Like addr but remote side only (the /remote click-through). */
  peer: string;
  /** Process search: pid, program, user or command line. */
  proc: string;
}

export function defaultFilter(): ConnectionFilter {
  return { protos: [...DEFAULT_PROTOS], show: 'all', family: 'any', states: [], port: '', addr: '', peer: '', proc: '' };
}

export function protoFlag(proto: Socket['proto']): ProtoFlag {
  switch (proto) {
    case 'tcp':
    case 'tcp6':
      return 't';
    case 'udp':
    case 'udp6':
    case 'udplite':
    case 'udplite6':
      return 'u';
    case 'raw':
    case 'raw6':
      return 'w';
    case 'unix':
      return 'x';
  }
}

/**
 * Listening in netstat -l's sense: TCP LISTEN; UDP/raw not connected to a peer (state other than
 * ESTABLISHED); unix with the accept flag.
 */
export function isListening(s: Socket): boolean {
  if (s.proto === 'unix') return s.acceptCon || s.state === 'LISTENING';
  if (s.proto === 'tcp' || s.proto === 'tcp6') return s.state === 'LISTEN';
  return s.state !== 'ESTABLISHED';
}

/* ---------- URL query codec ---------- */

const SHOW_VALUES: readonly ShowMode[] = ['all', 'listening', 'connected'];

/** Read a filter from the URL query; unknown or malformed values fall back to the default. */
export function filterFromQuery(q: QueryInput): ConnectionFilter {
  const f = defaultFilter();
  if (q.proto !== undefined) {
    const protos = queryList(q, 'proto').filter((p): p is ProtoFlag => (PROTO_FLAGS as readonly string[]).includes(p));
    f.protos = PROTO_FLAGS.filter((p) => protos.includes(p));
  }
  const show = queryString(q, 'show');
  if ((SHOW_VALUES as readonly string[]).includes(show)) f.show = show as ShowMode;
  const family = queryString(q, 'family');
  if (family === '4' || family === '6') f.family = family;
  f.states = [...new Set(queryList(q, 'state').map((s) => s.toUpperCase()))];
  f.port = queryString(q, 'port').trim();
  f.addr = queryString(q, 'addr').trim();
  f.peer = queryString(q, 'peer').trim();
  f.proc = queryString(q, 'proc').trim();
  return f;
}

/** The filter as a URL query: only what differs from the default, so URLs stay short. */
export function filterToQuery(f: ConnectionFilter): Record<string, string> {
  const q: Record<string, string> = {};
  const protos = PROTO_FLAGS.filter((p) => f.protos.includes(p));
  if (protos.join(',') !== DEFAULT_PROTOS.join(',')) q.proto = protos.join(',');
  if (f.show !== 'all') q.show = f.show;
  if (f.family !== 'any') q.family = f.family;
  if (f.states.length > 0) q.state = f.states.join(',');
  if (f.port.trim() !== '') q.port = f.port.trim();
  if (f.addr.trim() !== '') q.addr = f.addr.trim();
  if (f.peer.trim() !== '') q.peer = f.peer.trim();
  if (f.proc.trim() !== '') q.proc = f.proc.trim();
  return q;
}

/** netstat-style flag summary for the header, e.g. `-tuanp -4`. */
export function filterFlags(f: ConnectionFilter): string {
  const protos = PROTO_FLAGS.filter((p) => f.protos.includes(p)).join('');
  const show = f.show === 'all' ? 'a' : f.show === 'listening' ? 'l' : '';
  const fam = f.family === 'any' ? '' : ` -${f.family}`;
  return `-${protos}${show}npeo${fam}`;
}

/* ---------- port spec ---------- */

export interface PortSpec {
  ranges: [number, number][];
  names: string[];
}

/** Parse `443`, `80,443`, `8000-8100`, `https`; null when empty; invalid parts are reported. */
export function parsePortSpec(text: string): { spec: PortSpec | null; invalid: string[] } {
  const ranges: [number, number][] = [];
  const names: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const range = /^(\d{1,5})\s*-\s*(\d{1,5})$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (a > 65535 || b > 65535) invalid.push(part);
      else ranges.push(a <= b ? [a, b] : [b, a]);
    } else if (/^\d{1,5}$/.test(part)) {
      const n = Number(part);
      if (n > 65535) invalid.push(part);
      else ranges.push([n, n]);
    } else if (/^[a-z0-9][a-z0-9._+-]*$/i.test(part)) {
      names.push(part.toLowerCase());
    } else {
      invalid.push(part);
    }
  }
  if (ranges.length === 0 && names.length === 0) return { spec: null, invalid };
  return { spec: { ranges, names }, invalid };
}

function portMatches(spec: PortSpec, port: number, service: string | undefined): boolean {
  for (const [a, b] of spec.ranges) if (port >= a && port <= b) return true;
  if (service !== undefined && spec.names.length > 0) {
    const s = service.toLowerCase();
    for (const n of spec.names) if (s === n) return true;
  }
  return false;
}

/* ---------- address matcher ---------- */

export type AddressMatcher = (address: string) => boolean;

/**
 * CIDR or bare address → exact network match (integer arithmetic for IPv4); anything else →
 * case-insensitive substring, memoised per address string since addresses repeat.
 */
export function addressMatcher(text: string): AddressMatcher | null {
  const t = text.trim();
  if (t === '') return null;
  const cidr: Cidr | null = parseCidr(t.replace(/^\[|\]$/g, ''));
  if (cidr) return cidrTester(cidr); // integer-only for IPv4: cheaper than any memo
  const needle = t.toLowerCase();
  const raw: AddressMatcher = (address) => address.toLowerCase().includes(needle);
  const memo = new Map<string, boolean>();
  return (address) => {
    let hit = memo.get(address);
    if (hit === undefined) {
      hit = raw(address);
      if (memo.size < 500_000) memo.set(address, hit);
    }
    return hit;
  };
}

/* ---------- the predicate ---------- */

export interface FilterContext {
  processes: Record<string, ProcessInfo>;
  /**
   * /etc/services by name and alias (lower case) → ports, as getservbyname answers. Given, a
   * service name in a port filter matches its ports (`www` finds port 80, whatever name the
   * socket shows) and a name not in it is reported; absent, names match the sockets' service names.
   */
  servicePorts?: ReadonlyMap<string, readonly number[]> | null;
}

/** A port spec with its service names turned into ports; unknown names reported. */
function resolvePortNames(spec: PortSpec | null, servicePorts: ReadonlyMap<string, readonly number[]> | null, problems: string[]): PortSpec | null {
  if (spec === null || servicePorts === null || spec.names.length === 0) return spec;
  const ranges = spec.ranges.slice();
  for (const name of spec.names) {
    const ports = servicePorts.get(name);
    if (ports === undefined) problems.push(`port “${name}” is not a port, range or service name (no such name in /etc/services)`);
    else for (const p of ports) ranges.push([p, p]);
  }
  return ranges.length === 0 ? null : { ranges, names: [] };
}

export interface CompiledFilter {
  test: (s: Socket) => boolean;
  /** Parts of the filter that could not be understood, for the UI to flag. */
  problems: string[];
}

/** Every state a socket row can show (UDP and raw rows use the TCP names). */
const KNOWN_STATES: ReadonlySet<string> = new Set<string>([...TCP_STATES, ...UNIX_STATES]);

export function compileFilter(f: ConnectionFilter, ctx: FilterContext): CompiledFilter {
  const problems: string[] = [];
  const protos = new Set(f.protos);
  const states = new Set(f.states);
  for (const st of states) if (!KNOWN_STATES.has(st)) problems.push(`state “${st}” is not a socket state (TCP: ${TCP_STATES.join(', ')}; unix: ${UNIX_STATES.join(', ')})`);
  if (states.has('SYN_RECV')) states.add('NEW_SYN_RECV');
  const { spec, invalid } = parsePortSpec(f.port);
  for (const p of invalid) problems.push(`port “${p}” is not a port, range or service name`);
  const ports = resolvePortNames(spec, ctx.servicePorts ?? null, problems);
  const addr = addressMatcher(f.addr);
  const peer = addressMatcher(f.peer);
  const show = f.show;
  const family = f.family === 'any' ? 0 : Number(f.family);

  const procText = f.proc.trim().toLowerCase();
  let procMatch: ((s: Socket) => boolean) | null = null;
  if (procText !== '') {
    const pidExact = /^\d+$/.test(procText) ? Number(procText) : null;
    // Decide per pid once: command line and user come from the process table.
    const byPid = new Map<number, boolean>();
    const pidMatches = (pid: number): boolean => {
      let hit = byPid.get(pid);
      if (hit === undefined) {
        const p = ctx.processes[String(pid)];
        hit =
          pid === pidExact ||
          (p !== undefined &&
            (p.program.toLowerCase().includes(procText) ||
              (p.cmdline !== null && p.cmdline.toLowerCase().includes(procText)) ||
              (p.user !== null && p.user.toLowerCase().includes(procText))));
        byPid.set(pid, hit);
      }
      return hit;
    };
    procMatch = (s) => {
      if (s.pid !== null && pidMatches(s.pid)) return true;
      if (s.program !== null && s.program.toLowerCase().includes(procText)) return true;
      if (s.proto !== 'unix' && s.user !== null && s.user.toLowerCase().includes(procText)) return true;
      if (s.otherPids) for (const p of s.otherPids) if (pidMatches(p)) return true;
      return false;
    };
  }

  const test = (s: Socket): boolean => {
    if (!protos.has(protoFlag(s.proto))) return false;
    if (show !== 'all' && isListening(s) !== (show === 'listening')) return false;
    if (states.size > 0 && !states.has(s.state)) return false;
    if (s.proto === 'unix') {
      if (family !== 0 || ports !== null || peer !== null) return false;
      if (addr !== null && (s.path === null || !addr(s.path))) return false;
    } else {
      if (family !== 0 && s.family !== family) return false;
      if (ports !== null && !portMatches(ports, s.localPort, s.localService) && !portMatches(ports, s.remotePort, s.remoteService)) {
        return false;
      }
      if (addr !== null && !addr(s.localAddress) && !addr(s.remoteAddress)) return false;
      if (peer !== null && !peer(s.remoteAddress)) return false;
    }
    if (procMatch !== null && !procMatch(s)) return false;
    return true;
  };
  return { test, problems };
}

/** Run a compiled filter over the sockets; one tight loop, no intermediate arrays. */
export function filterSockets(sockets: readonly Socket[], test: (s: Socket) => boolean): Socket[] {
  const out: Socket[] = [];
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i]!;
    if (test(s)) out.push(s);
  }
  return out;
}
