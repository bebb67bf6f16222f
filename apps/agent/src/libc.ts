/**
 * libc through koffi (an FFI with prebuilt binaries shipped in the npm package: nothing is compiled
 * at install), for what node has no API for: netlink sockets (netlink/sock-diag.ts,
 * netlink/link-watch.ts) and malloc_trim (heap.ts). Loaded once; where koffi or libc.so.6 is
 * missing, the reason instead.
 */
import { createRequire } from 'node:module';

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
