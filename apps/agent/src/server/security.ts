/**
 * Who may talk to the agent. Pure decisions over request headers, used by both the HTTP
 * middleware and the /ws upgrade handler:
 *  - Host must be loopback, the bound address, or an allowed name (DNS rebinding).
 *  - /ws Origin must be exactly the served scheme://host:port, or an allowed origin (CSWSH).
 *    A request with no Origin is not from a browser page and cannot be a cross-site hijack.
 *  - With a token: `Authorization: Bearer T`, or the session cookie it was exchanged for.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { isLoopbackHost } from '../config.js';

export interface AccessPolicy {
  scheme: 'http' | 'https';
  boundHost: string;
  port: number;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  token: string | null;
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
  if (name === bare(policy.boundHost) && policy.boundHost !== '0.0.0.0' && policy.boundHost !== '::') return true;
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

/** Failed-auth limiter: at most `limit` failures per address per window. */
export class FailureLimiter {
  private failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  blocked(address: string, now = Date.now()): boolean {
    const f = this.failures.get(address);
    if (!f) return false;
    if (now - f.since > this.windowMs) {
      this.failures.delete(address);
      return false;
    }
    return f.count >= this.limit;
  }

  fail(address: string, now = Date.now()): void {
    const f = this.failures.get(address);
    if (!f || now - f.since > this.windowMs) this.failures.set(address, { count: 1, since: now });
    else f.count++;
    if (this.failures.size > 10_000) this.failures.clear(); // bounded under address spraying
  }
}
