/**
 * Everything outside /api: the dashboard's pages and files, and signing in.
 *
 *   GET  /login          the login page (public; its script reads the token from the fragment)
 *   POST /login          {token} → session cookie (one-time token, same origin only)
 *   POST /logout         forget the session
 *   GET  /assets/…       scripts and styles (public: no secret in them)
 *   GET  /, /s/<id>, …   the app (needs the cookie, else → /login)
 *
 * No GET changes anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-io.js';
import type { RequestAuth } from './request-auth.js';
import { clearedCookie, sameOrigin, sessionCookie, type BrowserAuth } from './web-auth.js';
import { PAGE_HEADERS, type WebFiles } from './web-static.js';

export interface WebDeps {
  web: WebFiles;
  browser: BrowserAuth;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const forbidden = (res: ServerResponse): void =>
  sendJson(res, 403, { error: { code: 'FORBIDDEN', message: 'cross-origin request refused', hint: 'use the dashboard page itself' } });

export async function serveWeb(deps: WebDeps, auth: RequestAuth | undefined, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (!deps.web.has('index.html')) return plain(res, 503, 'the dashboard is not built: run `npm run build`\n');
  if (path === '/login' && method === 'POST') {
    if (!sameOrigin(req)) return forbidden(res);
    const body = (await readBody(req, 4096).catch(() => undefined)) as { token?: unknown } | undefined;
    const granted = typeof body?.token === 'string' ? deps.browser.redeem(body.token) : undefined;
    if (!granted) {
      return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'this login link was used already or has expired', hint: 'run `ennio dashboard` for a new one' } });
    }
    return sendJson(res, 200, { ok: true }, { 'set-cookie': sessionCookie(granted.cookie, granted.maxAgeS) });
  }
  if (path === '/logout' && method === 'POST') {
    if (!sameOrigin(req)) return forbidden(res);
    deps.browser.end(req);
    return sendJson(res, 200, { ok: true }, { 'set-cookie': clearedCookie });
  }
  if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/login') {
    deps.web.serve(req, res, 'index.html'); // the page signs in by itself (src/web/login.ts)
    return;
  }
  if (path.startsWith('/assets/')) {
    if (!deps.web.serve(req, res, path.slice(1))) plain(res, 404, 'not found\n');
    return;
  }
  if (!auth) return plain(res, 303, 'sign in first\n', { location: '/login' });
  deps.web.serve(req, res, 'index.html');
}
