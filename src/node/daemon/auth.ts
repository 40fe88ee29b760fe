/**
 * Bearer-token check for every call. Both sides are hashed with SHA-256 first, so
 * timingSafeEqual always compares 32 bytes: neither the token's content nor its length
 * leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Whether an `authorization` header value carries the expected token. */
export function bearerMatches(header: string | null, expected: Buffer): boolean {
  if (header === null) return false;
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  // Hash something even for a malformed header so both paths cost the same.
  return timingSafeEqual(digest(m?.[1] ?? ''), expected) && m !== null;
}

/** An interceptor that rejects calls without the right token (UNAUTHENTICATED). */
export function authInterceptor(token: string): Interceptor {
  const expected = digest(token);
  return (next) => async (req) => {
    const header = req.header.get('authorization');
    if (!bearerMatches(header, expected)) {
      throw new ConnectError(
        header === null ? 'missing authorization metadata (expected "Bearer <token>")' : 'invalid auth token',
        Code.Unauthenticated,
      );
    }
    return next(req);
  };
}
