/**
 * libc through koffi (an FFI with prebuilt binaries shipped in the npm package: nothing is compiled
 * at install), for what node has no API for: netlink sockets (netlink/sock-diag.ts,
 * netlink/link-watch.ts), malloc_trim (heap.ts) and a stat without node's Stats object (the owner
 * walk). Loaded once; where koffi or libc.so.6 is
 * missing, the reason instead.
 */
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

/** Where koffi lives (worker threads load it from there too), or why it cannot be used. */
export function koffiPath(): string | Error {
  try {
    return createRequire(import.meta.url).resolve('koffi');
  } catch (err) {
    return err as Error;
  }
}

export interface Koffi {
  load(name: string): { func(decl: string): (...args: unknown[]) => unknown };
  errno(): number;
}

export interface LibcHandle {
  koffi: Koffi;
  lib: ReturnType<Koffi['load']>;
}

let handle: LibcHandle | Error | null = null;

/** koffi and libc.so.6, loaded on first use. */
export function libcHandle(): LibcHandle | Error {
  if (handle !== null) return handle;
  const path = koffiPath();
  if (path instanceof Error) return (handle = new Error(`koffi is not installed (${path.message})`));
  try {
    const koffi = createRequire(import.meta.url)(path) as Koffi;
    handle = { koffi, lib: koffi.load('libc.so.6') };
  } catch (err) {
    handle = new Error(`cannot call libc through koffi: ${(err as Error).message}`);
  }
  return handle;
}

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOBUFS = 105;

/** The socket calls of the netlink sources: libc's, with errno read right after a failed call. */
export interface SocketCalls {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let socketCallsCache: SocketCalls | Error | null = null;

/** libc's socket calls through koffi, bound once; or why they cannot be had. */
export function socketCalls(): SocketCalls | Error {
  if (socketCallsCache !== null) return socketCallsCache;
  const h = libcHandle();
  if (h instanceof Error) return (socketCallsCache = h);
  try {
    const socket = h.lib.func('int socket(int, int, int)');
    const bind = h.lib.func('int bind(int, const void *, uint32_t)');
    const send = h.lib.func('long send(int, const void *, size_t, int)');
    const recv = h.lib.func('long recv(int, void *, size_t, int)');
    const close = h.lib.func('int close(int)');
    socketCallsCache = {
      socket: (a, b, c) => socket(a, b, c) as number,
      bind: (fd, addr, len) => bind(fd, addr, len) as number,
      send: (fd, buf, len, flags) => Number(send(fd, buf, len, flags)),
      recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
      close: (fd) => close(fd) as number,
      errno: () => h.koffi.errno(),
    };
  } catch (err) {
    socketCallsCache = new Error(`cannot call libc through koffi: ${(err as Error).message}`);
  }
  return socketCallsCache;
}

/** A path's inode number and size (what the owner walk asks of each /proc/<pid>/fd). */
export interface InoSize {
  ino: number;
  size: number;
}

const AT_FDCWD = -100;
/** STATX_INO | STATX_SIZE. */
const STATX_INO_SIZE = 0x300;
/** Offsets of stx_ino and stx_size in struct statx (the same on every architecture). */
const STX_INO = 32;
const STX_SIZE = 40;
const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

let statxCache: ((path: string, out: InoSize) => string | null) | Error | null = null;

/**
 * stat of a path's inode and size through libc's statx into one reused buffer: node's statSync
 * builds a Stats object with four Dates a call (~1.5 KB of garbage; the owner walk stats every
 * process's fd directory every tick). Fills `out` and returns null, or returns the error code
 * ('ENOENT', 'EACCES', …). An Error when statx cannot be called here (then use statSync).
 */
export function statxInoSize(): ((path: string, out: InoSize) => string | null) | Error {
  if (statxCache !== null) return statxCache;
  const h = libcHandle();
  if (h instanceof Error) return (statxCache = h);
  try {
    const statx = h.lib.func('int statx(int, const char *, int, unsigned int, void *)');
    const buf = new Uint8Array(256);
    const view = new DataView(buf.buffer);
    const u64 = (at: number): number => view.getUint32(at, true) + view.getUint32(at + 4, true) * 4294967296;
    statxCache = (path, out) => {
      if ((statx(AT_FDCWD, path, 0, STATX_INO_SIZE, buf) as number) !== 0) {
        const e = h.koffi.errno();
        return ERRNO_NAMES.get(e) ?? `errno ${e}`;
      }
      out.ino = u64(STX_INO);
      out.size = u64(STX_SIZE);
      return null;
    };
  } catch (err) {
    statxCache = new Error(`cannot call statx through koffi: ${(err as Error).message}`);
  }
  return statxCache;
}
