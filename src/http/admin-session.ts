/**
 * The admin console's login sessions (a SessionVerifier of access.ts): a
 * login with ADMIN_TOKEN gets a random session id in an HttpOnly,
 * SameSite=Strict cookie; the server keeps the id's expiry (memory of this
 * process: a restart logs everyone out). Unsafe methods with a session
 * cookie must come from the console's own origin (Origin, or
 * Sec-Fetch-Site: same-origin), so another site cannot make the browser
 * republish (CSRF); a bearer token needs no such check (no browser sends
 * one by itself).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AccessScope, SessionVerifier } from './access.js';

export const SESSION_COOKIE = 'dfb_admin_session';
/** The cookie is sent only to the console's paths. */
const COOKIE_PATH = '/admin';
const DEFAULT_TTL_MS = 8 * 60 * 60 * 1000;
/** Sessions kept at most: the oldest go first (a login loop cannot fill the memory). */
const MAX_SESSIONS = 1000;

export interface AdminSessionOptions {
  /** Lifetime of a session from its login (server-side expiry). */
  ttlMs?: number;
  now?: () => number;
}

/** The value of cookie `name` in the request's Cookie header. */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when an unsafe request comes from the page of this listener (same origin). */
export function isSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (typeof origin !== 'string' || typeof host !== 'string') return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export class AdminSessions implements SessionVerifier {
  /** Session id → expiry (epoch ms), in login order. */
  private readonly sessions = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: AdminSessionOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** A new session (the caller checked the token); returns its Set-Cookie value. */
  open(): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, this.now() + this.ttlMs);
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return `${SESSION_COOKIE}=${id}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}`;
  }

  /** Ends the request's session, if any; returns the Set-Cookie value that clears the cookie. */
  close(req: IncomingMessage): string {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
    return `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** The request carries a live session (whatever its method). */
  has(req: IncomingMessage): boolean {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id === undefined) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  verify(req: IncomingMessage, _scope: AccessScope): boolean {
    if (!this.has(req)) return false;
    return SAFE_METHODS.has(req.method ?? 'GET') || isSameOrigin(req);
  }

  get size(): number {
    return this.sessions.size;
  }
}
