/**
 * Browser sign-in on the TCP port, for the dashboard.
 *
 * - `ennio dashboard` asks over the 0600 Unix socket for a one-time login token (valid
 *   LOGIN_TTL_MS). It travels in the URL's fragment (`/login#token=…`), so it reaches no
 *   server log, proxy or Referer; the login page's script POSTs it and moves to `/`.
 * - Redeeming it sets an HttpOnly, SameSite=Strict cookie naming a browser session bound
 *   to the caller that asked for the token (its cwd, environment and config): the
 *   dashboard shows what `ennio status` shows in that shell.
 * - Only digests of tokens and cookies are kept (in memory: a restarted orchestrator asks
 *   for a new `ennio dashboard`).
 * - A request authenticated by the cookie that changes anything (POST, DELETE, a
 *   WebSocket) must come from the dashboard's own origin (CSRF, cross-site WebSocket).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../cli/context.js';

export const COOKIE_NAME = 'ennio_session';
const LOGIN_TTL_MS = 5 * 60_000;
const SESSION_TTL_MS = 7 * 24 * 3_600_000;
const MAX_PENDING = 100;
const MAX_SESSIONS = 200;

interface Grant {
  caller: Caller;
  expires: number;
}

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function prune(map: Map<string, Grant>, max: number): void {
  const now = Date.now();
  for (const [k, g] of map) if (g.expires <= now) map.delete(k);
  // Oldest first (insertion order) when still over the cap.
  for (const k of map.keys()) {
    if (map.size <= max) break;
    map.delete(k);
  }
}

export class BrowserAuth {
  private readonly logins = new Map<string, Grant>();
  private readonly sessions = new Map<string, Grant>();

  /** A one-time login token for `caller`. */
  mintLogin(caller: Caller): { token: string; expiresAt: Date } {
    prune(this.logins, MAX_PENDING - 1);
    const token = randomBytes(24).toString('base64url');
    const expires = Date.now() + LOGIN_TTL_MS;
    this.logins.set(digest(token), { caller, expires });
    return { token, expiresAt: new Date(expires) };
  }

  /** Trade a login token (once, before it expires) for a session cookie value. */
  redeem(token: string): { cookie: string; maxAgeS: number } | undefined {
    const key = digest(token);
    const grant = this.logins.get(key);
    this.logins.delete(key);
    if (!grant || grant.expires <= Date.now()) return undefined;
    prune(this.sessions, MAX_SESSIONS - 1);
    const cookie = randomBytes(32).toString('base64url');
    this.sessions.set(digest(cookie), { caller: grant.caller, expires: Date.now() + SESSION_TTL_MS });
    return { cookie, maxAgeS: Math.floor(SESSION_TTL_MS / 1000) };
  }

  /** The caller a request's session cookie stands for, if it carries a live one. */
  callerOf(req: IncomingMessage): Caller | undefined {
    const value = cookieValue(req.headers.cookie, COOKIE_NAME);
    if (!value) return undefined;
    const grant = this.sessions.get(digest(value));
    if (!grant) return undefined;
    if (grant.expires <= Date.now()) {
      this.sessions.delete(digest(value));
      return undefined;
    }
    return grant.caller;
  }

  end(req: IncomingMessage): void {
    const value = cookieValue(req.headers.cookie, COOKIE_NAME);
    if (value) this.sessions.delete(digest(value));
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeS: number): string {
  return `${COOKIE_NAME}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}`;
}

export const clearedCookie = `${COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

/** The request comes from a page of this server (its Origin is this very host and port). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    const o = new URL(origin);
    return (o.protocol === 'http:' || o.protocol === 'https:') && o.host === host;
  } catch {
    return false;
  }
}
