/**
 * Who a request is. On the Unix socket (0600: only this user can connect) everyone is
 * trusted. On TCP a request needs the bearer api_token, or the dashboard's session
 * cookie — which stands for the caller that ran `ennio dashboard`, and counts for a
 * change (POST, DELETE, WebSocket) only when the request comes from the dashboard's origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Caller } from '../cli/context.js';
import { sameOrigin, type BrowserAuth } from './web-auth.js';

export type RequestAuth = { via: 'unix' } | { via: 'bearer' } | { via: 'cookie'; caller: Caller };

/** Constant-time comparison of SHA-256 digests: no timing hint about the token. */
function tokenMatches(header: string | undefined, digest: Buffer | undefined): boolean {
  if (!digest || !header?.startsWith('Bearer ')) return false;
  const given = createHash('sha256').update(header.slice('Bearer '.length)).digest();
  return timingSafeEqual(given, digest);
}

export function authenticate(
  transport: 'unix' | 'tcp',
  req: IncomingMessage,
  tokenDigest: Buffer | undefined,
  browser: BrowserAuth,
): RequestAuth | undefined {
  if (transport === 'unix') return { via: 'unix' };
  if (tokenMatches(req.headers.authorization, tokenDigest)) return { via: 'bearer' };
  const caller = browser.callerOf(req);
  return caller ? { via: 'cookie', caller } : undefined;
}

/**
 * Whether a request may change something. A browser sends the cookie with requests that
 * other sites make it send, so a cookie counts only from the dashboard's own pages; a
 * bearer client that says where it comes from must say it is this origin too.
 */
export function mayChange(auth: RequestAuth, req: IncomingMessage): boolean {
  if (auth.via === 'cookie') return sameOrigin(req);
  if (auth.via === 'bearer' && req.headers.origin !== undefined) return sameOrigin(req);
  return true;
}
