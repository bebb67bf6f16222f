/**
 * Whether the machine's interfaces or their addresses changed since the last look, from the
 * kernel's own notices: an rtnetlink socket in the RTMGRP_LINK, RTMGRP_IPV4_IFADDR and
 * RTMGRP_IPV6_IFADDR groups, which is how `ip monitor link address` listens. The kernel sends a
 * message on each change of an interface (up/down, carrier, operstate, MTU, flags, MAC, name, an
 * interface added or removed) or of an address. Listening changes nothing in the kernel and needs
 * no privilege.
 *
 * The collector reads /sys/class/net/<if>/{mtu,flags,operstate,speed,address,ifindex} and the
 * addresses (getifaddrs) only when this says something changed: at 1k sockets those were ~0.65 ms
 * of the ~9 ms a tick spends on the main thread, for values that change a few times a day. Messages
 * are drained without blocking at the start of each tick; one that comes after the drain is seen
 * at the next tick. A queue that overflowed (ENOBUFS), any other error, or no socket at all (no
 * koffi) all answer "changed": the files are then read every tick, as before.
 */
import { AF_NETLINK, EAGAIN, EINTR, ENOBUFS, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, socketCalls, type SocketCalls } from '../libc.js';

const NETLINK_ROUTE = 0;
const RTMGRP_LINK = 0x1;
const RTMGRP_IPV4_IFADDR = 0x10;
const RTMGRP_IPV6_IFADDR = 0x100;
const MSG_DONTWAIT = 0x40;
/** A drain reads at most this many batches; a flood past it counts as a change, the rest wait for the next tick. */
const MAX_READS = 256;

export class LinkWatch {
  private readonly buf = new Uint8Array(64 * 1024);
  /** Set once a read failed other than "nothing yet" or an overflow: every call answers true. */
  private broken: string | null = null;
  /** Messages drained so far (tests and diagnostics). */
  messages = 0;

  private constructor(
    private readonly c: SocketCalls,
    private fd: number,
  ) {}

  /** A socket listening for link and address changes, or why there is none. */
  static open(): LinkWatch | Error {
    const c = socketCalls();
    if (c instanceof Error) return c;
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return new Error(`socket(AF_NETLINK, NETLINK_ROUTE): errno ${c.errno()}`);
    // struct sockaddr_nl: nl_family u16, nl_pad u16, nl_pid u32 (0: the kernel picks), nl_groups u32
    const addr = new Uint8Array(12);
    const v = new DataView(addr.buffer);
    v.setUint16(0, AF_NETLINK, true);
    v.setUint32(8, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, true);
    if (c.bind(fd, addr, addr.length) !== 0) {
      const e = c.errno();
      c.close(fd);
      return new Error(`bind(NETLINK_ROUTE, link and address groups): errno ${e}`);
    }
    return new LinkWatch(c, fd);
  }

  /** Why every call answers "changed", or null while the socket works. */
  get failure(): string | null {
    return this.broken;
  }

  /** Drain the notices that came since the last call: true when there was any (or one may have been lost). */
  changed(): boolean {
    if (this.broken !== null || this.fd < 0) return true;
    let any = false;
    for (let i = 0; i < MAX_READS; i++) {
      const r = this.c.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT);
      if (r > 0) {
        any = true;
        this.messages++;
        continue;
      }
      if (r === 0) return any;
      const e = this.c.errno();
      if (e === EAGAIN) return any;
      if (e === EINTR) continue;
      // ENOBUFS: the kernel dropped notices for us; whatever they said, read everything again
      if (e === ENOBUFS) return true;
      this.broken = `recv on the rtnetlink socket: errno ${e}`;
      return true;
    }
    return true;
  }

  close(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
  }
}
