/**
 * libc through koffi (an FFI with prebuilt binaries shipped in the npm package: nothing is compiled
 * at install), for what node has no API for: netlink sockets (netlink/sock-diag.ts) and
 * malloc_trim (heap.ts). Loaded once; where koffi or libc.so.6 is missing, the reason instead.
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
