/**
 * One inet socket as JSON bytes, written from its raw record straight into an output buffer:
 * exactly the text `JSON.stringify(buildInetSocket(raw, now, names, owners, new Map()))` gives
 * (test/unit/inet-json.test.ts holds the two equal, on captured dumps and on generated records),
 * without the Socket object, its id string or the JSON text.
 *
 * Why: `--once` at 50k pairs built 100k Socket objects only to stringify them once. Those objects,
 * their ids and the text were ~350 ms of the main thread's user CPU, a fifth of it the garbage
 * collector copying objects that all lived to the end (a build that skipped them ran 912 → 582 ms).
 *
 * The field order is buildInetSocket's: id … timer, pid, program, fd, then localService,
 * remoteService, otherPids when set (applyOwner adds otherPids after the services).
 */
import type { RawInetSocket } from '../procfs/inet.js';
import { InodeHolders } from '../procfs/inode-holders.js';
import type { OwnerRef } from '../procfs/owners.js';
import type { ByteSink } from '../write-text.js';
import { SERVICE_PROTO, otherPidsOf, serviceName, type NameMaps, type OwnerLookup } from './sockets.js';

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

const K_LOCAL_PORT = bytes('","localPort":');
const K_REMOTE_ADDRESS = bytes(',"remoteAddress":"');
const K_REMOTE_PORT = bytes('","remotePort":');
const K_SEND_Q = bytes(',"sendQ":');
const K_TIMER_KIND = bytes(',"timer":{"kind":');
const K_TIMER_CODE = bytes(',"code":');
const K_EXPIRES_AT = bytes(',"expiresAt":');
const K_RETRANSMITS = bytes(',"retransmits":');
const K_PROBES = bytes(',"probes":');
const K_TIMER_OFF = bytes(',"timer":{"kind":"off","code":0,"expiresAt":null,"retransmits":0,"probes":0');
const K_NO_OWNER = bytes('},"pid":null,"program":null,"fd":null');
const K_PID = bytes('},"pid":');
const K_LOCAL_SERVICE = bytes(',"localService":');
const K_REMOTE_SERVICE = bytes(',"remoteService":');
const K_OTHER_PIDS = bytes(',"otherPids":[');
const NULL = bytes('null');

/** Room for the fixed pieces of a prefix (~210 bytes) and its 13 numbers (24 bytes each at most). */
const PREFIX_BYTES = 640;
/** Room for the fixed pieces of the rest (~100 bytes) and its numbers. */
const REST_BYTES = 256;

function put(buf: Uint8Array, p: number, piece: Uint8Array): number {
  for (let i = 0; i < piece.length; i++) buf[p + i] = piece[i]!;
  return p + piece.length;
}

/** A number as JSON.stringify writes it: digits by hand for the safe non-negative integers every field holds. */
function putNumber(buf: Uint8Array, p: number, n: number): number {
  if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
    if (n < 10) {
      buf[p] = 48 + n;
      return p + 1;
    }
    let digits = 2;
    for (let t = 100; t <= n && digits < 10; t *= 10) digits++;
    for (let i = p + digits - 1, t = n; i >= p; i--, t = (t / 10) | 0) buf[i] = 48 + (t % 10);
    return p + digits;
  }
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return put(buf, p, bytes(JSON.stringify(n)));
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  for (let i = p + digits - 1, t = n; i >= p; i--, t = Math.floor(t / 10)) buf[i] = 48 + (t % 10);
  return p + digits;
}

/** A key piece, then a number: most fields of a socket. */
function putKeyNumber(buf: Uint8Array, p: number, key: Uint8Array, n: number): number {
  return putNumber(buf, put(buf, p, key), n);
}

/** `text` inside JSON quotes when every char is printable ASCII other than `"` and `\`; -1 otherwise. */
function putPlain(buf: Uint8Array, p: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    buf[p + i] = c;
  }
  return p + text.length;
}

/** The UTF-8 of JSON.stringify(text) without its quotes. */
function escapedInner(text: string): Uint8Array {
  const json = JSON.stringify(text);
  return bytes(json.slice(1, json.length - 1));
}

/** `text` inside JSON quotes, escaped as JSON.stringify escapes it. */
function putInner(buf: Uint8Array, p: number, text: string): number {
  const q = putPlain(buf, p, text);
  return q >= 0 ? q : put(buf, p, escapedInner(text));
}

/** `address:port` inside the id's quotes, as inetSocketId writes an endpoint. */
function putEndpoint(buf: Uint8Array, p: number, address: string, port: number): number {
  p = putInner(buf, p, address);
  buf[p++] = 0x3a;
  return putNumber(buf, p, port);
}

/** Room `text` may take inside quotes: JSON escapes a UTF-16 unit into at most 6 bytes. */
const innerRoom = (text: string): number => text.length * 6;

/** Pieces by key (a proto and family, a state and code, a uid, a pid): each made once, on first use. */
class Pieces<A, B = null> {
  private readonly map = new Map<A, Map<B, Uint8Array>>();
  constructor(private readonly make: (a: A, b: B) => string) {}
  get(a: A, b: B): Uint8Array {
    let inner = this.map.get(a);
    if (inner === undefined) this.map.set(a, (inner = new Map()));
    let piece = inner.get(b);
    if (piece === undefined) inner.set(b, (piece = bytes(this.make(a, b))));
    return piece;
  }
}

export class InetJson {
  /** `{"id":"tcp ` */
  private readonly idStart = new Pieces<string>((proto) => `{"id":${JSON.stringify(proto).slice(0, -1)} `);
  /** `","proto":"tcp","family":4,"localAddress":"` */
  private readonly protoFamily = new Pieces<string, number>(
    (proto, family) => `","proto":${JSON.stringify(proto)},"family":${JSON.stringify(family)},"localAddress":"`,
  );
  /** `,"state":"ESTABLISHED","stateCode":1,"recvQ":` */
  private readonly stateBlock = new Pieces<string, number>(
    (state, code) => `,"state":${JSON.stringify(state)},"stateCode":${JSON.stringify(code)},"recvQ":`,
  );
  /** `,"uid":0,"user":"root","inode":` */
  private readonly userBlock = new Pieces<number>(
    (uid) => `,"uid":${JSON.stringify(uid)},"user":${JSON.stringify(this.names.users.get(uid) ?? null)},"inode":`,
  );
  /** `,"program":"node","fd":` */
  private readonly programBlock = new Pieces<number>((pid) => `,"program":${JSON.stringify(this.owners!.programOf(pid))},"fd":`);
  /** JSON texts of other strings that repeat (timer kinds, service names). */
  private readonly strings = new Pieces<string>((text) => JSON.stringify(text));
  private readonly holders: InodeHolders | null;

  constructor(
    private readonly now: number,
    private readonly names: NameMaps,
    private readonly owners: OwnerLookup | null,
  ) {
    this.holders = owners !== null && owners.byInode instanceof InodeHolders ? owners.byInode : null;
  }

  /** Append the socket's JSON object to `out`. */
  write(out: ByteSink, r: RawInetSocket): void {
    out.room(this.prefixRoom(r));
    out.pos = this.prefix(out.buf, out.pos, r);
    this.rest(out, r.proto, r.localPort, r.remotePort, r.inode);
  }

  /** Room the prefix of `r` may take. */
  prefixRoom(r: RawInetSocket): number {
    return PREFIX_BYTES + 2 * (innerRoom(r.localAddress) + innerRoom(r.remoteAddress)) + 8 * r.proto.length + r.state.length * 6 + r.timerKind.length * 6 + this.userBlock.get(r.uid, null).length;
  }

  /**
   * The socket's JSON up to its timer, the object left open: what needs no owner. Writes at `p`
   * (prefixRoom bytes must be free there) and returns where it ended.
   */
  prefix(buf: Uint8Array, p: number, r: RawInetSocket): number {
    const idStart = this.idStart.get(r.proto, null);
    const protoFamily = this.protoFamily.get(r.proto, r.family);
    const state = this.stateBlock.get(r.state, r.stateCode);
    const user = this.userBlock.get(r.uid, null);
    const timerOff = r.timerCode === 0 && r.timerKind === 'off' && r.retransmits === 0 && r.probes === 0;
    // id: `tcp 127.0.0.1:5000 127.0.0.1:40000 #12345` (inetSocketId)
    p = put(buf, p, idStart);
    p = putEndpoint(buf, p, r.localAddress, r.localPort);
    buf[p++] = 0x20;
    p = putEndpoint(buf, p, r.remoteAddress, r.remotePort);
    if (r.inode !== 0) {
      buf[p++] = 0x20;
      buf[p++] = 0x23;
      p = putNumber(buf, p, r.inode);
    }
    p = put(buf, p, protoFamily);
    p = putInner(buf, p, r.localAddress);
    p = putKeyNumber(buf, p, K_LOCAL_PORT, r.localPort);
    p = put(buf, p, K_REMOTE_ADDRESS);
    p = putInner(buf, p, r.remoteAddress);
    p = putKeyNumber(buf, p, K_REMOTE_PORT, r.remotePort);
    p = putKeyNumber(buf, p, state, r.recvQ);
    p = putKeyNumber(buf, p, K_SEND_Q, r.sendQ);
    p = putKeyNumber(buf, p, user, r.inode);
    if (timerOff) return put(buf, p, K_TIMER_OFF);
    p = put(buf, p, K_TIMER_KIND);
    p = put(buf, p, this.strings.get(r.timerKind, null));
    p = putKeyNumber(buf, p, K_TIMER_CODE, r.timerCode);
    p = put(buf, p, K_EXPIRES_AT);
    // a one-shot build has no earlier estimate to keep (buildInetSocket's prevTimers is empty)
    p = r.timerCode !== 0 ? putNumber(buf, p, this.now + r.timerRemainingMs) : put(buf, p, NULL);
    p = putKeyNumber(buf, p, K_RETRANSMITS, r.retransmits);
    return putKeyNumber(buf, p, K_PROBES, r.probes);
  }

  /** What follows a prefix: the timer's `}`, the owner, the services, the other pids, `}`. */
  rest(out: ByteSink, proto: RawInetSocket['proto'], localPort: number, remotePort: number, inode: number): void {
    const sp = SERVICE_PROTO[proto];
    const local = sp === null || localPort === 0 ? undefined : serviceName(this.names.services, sp, localPort);
    const remote = sp === null || remotePort === 0 ? undefined : serviceName(this.names.services, sp, remotePort);
    const localService = local === undefined ? null : this.strings.get(local, null);
    const remoteService = remote === undefined ? null : this.strings.get(remote, null);

    // the owner, as applyOwner finds it: the first holder, and the other pids when there are more
    let pid = -1;
    let fd = -1;
    let others: number[] | null = null;
    if (inode !== 0 && this.owners !== null) {
      let holders: readonly OwnerRef[] | undefined;
      const index = this.holders;
      if (index === null) holders = this.owners.byInode.get(inode);
      else {
        const at = index.firstHolder(inode);
        if (at !== -1 && index.nextHolder(at) === -1) {
          // one holder, the common case: read without the array get() builds
          pid = index.holderPid(at);
          fd = index.holderFd(at);
        } else if (at !== -1) holders = index.get(inode);
      }
      if (holders !== undefined && holders.length > 0) {
        pid = holders[0]!.pid;
        fd = holders[0]!.fd;
        others = otherPidsOf(holders);
      }
    }
    const program = pid === -1 ? null : this.programBlock.get(pid, null);

    out.room(
      REST_BYTES +
        (program?.length ?? 0) +
        (localService?.length ?? 0) +
        (remoteService?.length ?? 0) +
        (others === null ? 0 : others.length * 18),
    );
    const buf = out.buf;
    let p = out.pos;
    if (program === null) p = put(buf, p, K_NO_OWNER);
    else {
      p = putKeyNumber(buf, p, K_PID, pid);
      p = putKeyNumber(buf, p, program, fd);
    }
    if (localService !== null) {
      p = put(buf, p, K_LOCAL_SERVICE);
      p = put(buf, p, localService);
    }
    if (remoteService !== null) {
      p = put(buf, p, K_REMOTE_SERVICE);
      p = put(buf, p, remoteService);
    }
    if (others !== null) {
      p = put(buf, p, K_OTHER_PIDS);
      for (let i = 0; i < others.length; i++) {
        if (i > 0) buf[p++] = 0x2c;
        p = putNumber(buf, p, others[i]!);
      }
      buf[p++] = 0x5d;
    }
    buf[p++] = 0x7d;
    out.pos = p;
  }
}
