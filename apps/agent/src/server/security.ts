/**
 * Who may talk to the agent. Pure decisions over request headers, used by both the HTTP
 * middleware and the /ws upgrade handler:
 *  - Host must be loopback, the bound address, or an allowed name (DNS rebinding).
 *  - /ws Origin must be exactly the served scheme://host:port, or an allowed origin (CSWSH).
 *    A request with no Origin is not from a browser page and cannot be a cross-site hijack.
 *  - With a token: `Authorization: Bearer T`, or the session cookie it was exchanged for.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { parseIp } from '@netscope/shared';
import { isLoopbackHost } from '../config.js';

export interface AccessPolicy {
  scheme: 'http' | 'https';
  boundHost: string;
  port: number;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  token: string | null;
  /**
   * Bound to 0.0.0.0/:: : this machine's own addresses, accepted as Host. An IP literal in Host
   * means the browser was pointed at that IP, never at an attacker's name, so it cannot be a
   * DNS-rebinding request.
   */
  localAddresses?: () => readonly string[];
}

let addressCache: { at: number; list: string[] } | null = null;

/** This machine's interface addresses (getifaddrs), re-read at most every 10 s. */
export function machineAddresses(now = Date.now()): readonly string[] {
  if (addressCache === null || now - addressCache.at > 10_000) {
    const list = Object.values(networkInterfaces()).flatMap((infos) => (infos ?? []).map((i) => i.address.replace(/%.*$/, '')));
    addressCache = { at: now, list };
  }
  return addressCache.list;
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Split a Host header into name and port; IPv6 in brackets. Null when it cannot be a Host. */
export function parseHostHeader(host: string | undefined): { name: string; port: number | null } | null {
  if (!host) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/.exec(host.trim());
  if (!m) return null;
  const name = m[1]!.toLowerCase();
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && port > 65535) return null;
  return { name, port };
}

function bare(name: string): string {
  return name.replace(/^\[|\]$/g, '').toLowerCase();
}

export function hostAllowed(policy: AccessPolicy, hostHeader: string | undefined): boolean {
  const h = parseHostHeader(hostHeader);
  if (!h) return false;
  const name = bare(h.name);
  if (isLoopbackHost(name)) return true;
  if (name === bare(policy.boundHost) && !isWildcard(policy.boundHost)) return true;
  if (isWildcard(policy.boundHost) && policy.localAddresses?.().some((a) => bare(a) === name)) return true;
  return policy.allowedHosts.some((a) => bare(a) === name);
}

/** The origins a page served by us can have, given the Host it was loaded from. */
export function originAllowed(policy: AccessPolicy, origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  if (policy.allowedOrigins.includes(origin)) return true;
  const h = parseHostHeader(hostHeader);
  if (!h || !hostAllowed(policy, hostHeader)) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = policy.scheme === 'https' ? 443 : 80;
  const originPort = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return (
    url.protocol === `${policy.scheme}:` &&
    bare(url.hostname) === bare(h.name) &&
    originPort === policy.port &&
    (h.port ?? defaultPort) === policy.port &&
    url.pathname === '/' &&
    origin === url.origin
  );
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time token comparison (hash first so lengths never leak). */
export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (given === undefined || given === null) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

export function cookieName(port: number): string {
  return `netscope_session_${port}`;
}

/** Value of one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** The session cookie value for a token: a hash, so the token itself never sits in the browser. */
export function sessionValue(token: string): string {
  return createHash('sha256').update(`netscope-session:${token}`).digest('base64url');
}

export function authorized(
  policy: AccessPolicy,
  headers: { authorization?: string | undefined; cookie?: string | undefined },
): boolean {
  if (policy.token === null) return true;
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ') && tokenMatches(policy.token, auth.slice(7).trim())) return true;
  const cookie = readCookie(headers.cookie, cookieName(policy.port));
  return cookie !== null && tokenMatches(sessionValue(policy.token), cookie);
}

/**
 * Who a failure is charged to: the IPv4 address, or the /64 of an IPv6 one (one host usually
 * holds a whole /64, so per-address limits would give it 2^64 tries).
 */
export function limiterKey(address: string): string {
  const bytes = parseIp(address.replace(/%.*$/, ''));
  if (!bytes) return address;
  const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (v4mapped) return bytes.slice(12).join('.');
  return `${Buffer.from(bytes.slice(0, 8)).toString('hex')}::/64`;
}

/** Failed-auth limiter: at most `limit` failures per address (IPv6: per /64) per window. */
export class FailureLimiter {
  private failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly maxTracked = 10_000,
  ) {}

  blocked(address: string, now = Date.now()): boolean {
    const key = limiterKey(address);
    const f = this.failures.get(key);
    if (!f) return false;
    if (now - f.since > this.windowMs) {
      this.failures.delete(key);
      return false;
    }
    return f.count >= this.limit;
  }

  fail(address: string, now = Date.now()): void {
    const key = limiterKey(address);
    const f = this.failures.get(key);
    if (!f || now - f.since > this.windowMs) {
      this.failures.delete(key);
      this.failures.set(key, { count: 1, since: now });
    } else f.count++;
    // Bounded under address spraying, without forgiving everyone at once: drop expired entries,
    // then the oldest (Map keeps insertion order, and a new window re-inserts).
    if (this.failures.size > this.maxTracked) {
      for (const [k, v] of this.failures) if (now - v.since > this.windowMs) this.failures.delete(k);
      for (const k of this.failures.keys()) {
        if (this.failures.size <= this.maxTracked) break;
        this.failures.delete(k);
      }
    }
  }
}
