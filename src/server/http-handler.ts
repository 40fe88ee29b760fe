/**
 * One request → one route, in the caller's scope. On the Unix socket (0600, so only this
 * user) requests carry the caller's cwd, environment and config; on TCP every request
 * needs the bearer token (and runs with the orchestrator's default caller) or the
 * dashboard's cookie (and runs as the caller that ran `ennio dashboard`), see
 * request-auth.ts. Paths outside /api are the dashboard's (web-pages.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InProcessApi, publicSession } from '../api/in-process.js';
import { BUILD_HEADER, CALLER_HEADER, decodeCaller, httpStatusFor, jsonText, NDJSON, PRINT_HEADER, REQUEST_ID_HEADER } from '../api/wire.js';
import type { Caller } from '../cli/context.js';
import { EnnioError } from '../core/errors.js';
import { silentSink, withProgressSink } from '../core/progress.js';
import { withEnv } from '../core/request-env.js';
import { trace, tracing } from '../core/trace.js';
import type { ContextPool, PooledContext } from './contexts.js';
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './log.js';
import { matchRoute, type RouteContext, type ServerFacts } from './routes.js';
import { serveEvents } from './sse.js';
import type { EventRepo } from '../store/events.js';
import type { SessionView } from '../services/session-manager.js';
import { readBody, sendJson, wireError } from './http-io.js';
import type { LiveFeed } from './live-feed.js';
import { authenticate, mayChange, type RequestAuth } from './request-auth.js';
import type { BrowserAuth } from './web-auth.js';
import { serveWeb } from './web-pages.js';
import type { WebFiles } from './web-static.js';

const MAX_BODY = 32 * 1024 * 1024;

/** What clients see of a list of sessions, made once per list: Lifecycle.list hands out the same array until something changed. */
const publicLists = new WeakMap<readonly SessionView[], ReturnType<typeof publicSession>[]>();
function publicList(sessions: readonly SessionView[]): ReturnType<typeof publicSession>[] {
  let shown = publicLists.get(sessions);
  if (!shown) publicLists.set(sessions, (shown = sessions.map(publicSession)));
  return shown;
}

export interface HandlerDeps {
  pool: ContextPool;
  lifecycle: Lifecycle;
  events: EventRepo;
  log: Logger;
  build: string;
  server: ServerFacts;
  defaultCaller: () => Caller;
  /** SHA-256 of the TCP bearer token. */
  tokenDigest: () => Buffer | undefined;
  /** Requests in flight by client-chosen id, so a client's Ctrl-C can cancel its own request. */
  inflight: Map<string, AbortController>;
  /** Open streams (follow, SSE) keep the orchestrator from idling out. */
  streams: { count: number };
  touch(): void;
  browser: BrowserAuth;
  web: WebFiles;
  feed: LiveFeed;
}

/** The caller a request runs as: its own (Unix socket), the dashboard user's (cookie), or the default. */
export function callerFor(deps: HandlerDeps, auth: RequestAuth, req: IncomingMessage): Caller {
  if (auth.via === 'cookie') return auth.caller;
  const header = req.headers[CALLER_HEADER];
  if (auth.via === 'unix' && typeof header === 'string') {
    try {
      return decodeCaller(header);
    } catch {
      throw new EnnioError('INVALID_ARGUMENT', `malformed ${CALLER_HEADER} header`);
    }
  }
  return deps.defaultCaller();
}

export function createHandler(deps: HandlerDeps, transport: 'unix' | 'tcp'): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    deps.touch();
    if (tracing) {
      trace(`request: ${req.method} ${req.url?.split('?')[0]}`);
      res.once('finish', () => trace(`request: answered ${req.method} ${req.url?.split('?')[0]} (${res.statusCode})`));
    }
    void handle(deps, transport, req, res).catch((err: unknown) => {
      deps.log.error('request failed', { path: req.url?.split('?')[0], error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: wireError(err) });
      else res.end();
    });
  };
}

async function handle(deps: HandlerDeps, transport: 'unix' | 'tcp', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://ennio');
  const auth = authenticate(transport, req, deps.tokenDigest(), deps.browser);
  if (!url.pathname.startsWith('/api/')) return serveWeb(deps, auth, req, res, url);
  if (!auth) {
    return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong API token', hint: 'send Authorization: Bearer <api_token>, or sign in with the link `ennio dashboard` prints' } }, { 'www-authenticate': 'Bearer' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && !mayChange(auth, req)) {
    return sendJson(res, 403, { error: { code: 'FORBIDDEN', message: `cross-origin ${req.method} refused (Origin ${req.headers.origin ?? 'missing'})`, hint: 'use the dashboard page itself' } });
  }
  const build = req.headers[BUILD_HEADER];
  if (typeof build === 'string' && build !== deps.build) {
    return sendJson(res, 426, { error: { code: 'SERVER_BUILD', message: `orchestrator build ${deps.build} differs from client build ${build}` } });
  }
  // Cancel a request in flight (the client's Ctrl-C).
  const cancel = /^\/api\/v1\/requests\/([^/]+)\/cancel$/.exec(url.pathname);
  if (cancel && req.method === 'POST') {
    deps.inflight.get(decodeURIComponent(cancel[1]!))?.abort();
    return sendJson(res, 200, { cancelled: true });
  }
  let caller: Caller;
  try {
    caller = callerFor(deps, auth, req);
  } catch (err) {
    return sendJson(res, 400, { error: wireError(err) });
  }
  if (url.pathname === '/api/v1/events' && req.method === 'GET') {
    deps.streams.count++;
    res.on('close', () => deps.streams.count--);
    const feed = url.searchParams.get('feed') === '1';
    if (!feed) return serveEvents(deps.events, req, res, url);
    let pooled: PooledContext;
    try {
      pooled = deps.pool.get(caller);
    } catch (err) {
      return sendJson(res, 400, { error: wireError(err) });
    }
    return serveEvents(deps.events, req, res, url, (send) => deps.feed.watch(pooled, send));
  }
  const matched = matchRoute(req.method ?? 'GET', url.pathname);
  if (!matched) {
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}`, hint: 'see `ennio api schema` for the API' } });
  }
  if (matched.route.unixOnly && transport !== 'unix') {
    return sendJson(res, 403, { error: { code: 'FORBIDDEN', message: `${matched.route.path} is answered only on the orchestrator's Unix socket` } });
  }
  const ndjson = (req.headers.accept ?? '').includes(NDJSON);
  const abort = new AbortController();
  // The client went away before its answer (killed, Ctrl-C): stop what it asked for.
  res.on('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  const rid = req.headers[REQUEST_ID_HEADER];
  if (typeof rid === 'string') deps.inflight.set(rid, abort);
  const writeLine = (value: unknown): void => {
    if (!res.writableEnded) res.write(`${JSON.stringify(value)}\n`);
  };
  if (ndjson) res.writeHead(200, { 'content-type': `${NDJSON}; charset=utf-8`, 'cache-control': 'no-store' });
  try {
    const body = req.method === 'GET' ? undefined : await readBody(req, MAX_BODY);
    let pooled: PooledContext | undefined;
    const ctxOf = (): PooledContext => (pooled ??= deps.pool.get(caller));
    if (matched.route.needsConfig) ctxOf(); // config errors surface before anything runs
    let api: InProcessApi | undefined;
    const inProcess = (): InProcessApi => (api ??= new InProcessApi(ctxOf()));
    const routeCtx: RouteContext = {
      params: matched.params,
      query: url.searchParams,
      body,
      api: inProcess,
      context: ctxOf,
      caller,
      list: async (project) => {
        const r = await deps.lifecycle.list(ctxOf(), project);
        return { sessions: publicList(r.sessions), checked_at: new Date(r.at).toISOString() };
      },
      info: async (id) => {
        const { sessions } = await deps.lifecycle.list(ctxOf());
        // Not among them (unknown id, another config's): checked now, with in-process's error.
        return inProcess().info(id, sessions.find((s) => s.id === id));
      },
      mutation: (run) => deps.lifecycle.mutation(ctxOf().configPath, run),
      signal: abort.signal,
      stream: async (produce) => {
        if (!ndjson && !res.headersSent) res.writeHead(200, { 'content-type': `${NDJSON}; charset=utf-8`, 'cache-control': 'no-store' });
        deps.streams.count++;
        try {
          await produce((text) => writeLine({ text }), (notice) => writeLine({ notice }));
        } finally {
          deps.streams.count--;
        }
      },
      server: deps.server,
    };
    const env = pooled?.env ?? caller.env;
    // What a slow request waits for reaches a CLI client as {progress} lines.
    const sink = ndjson ? (text: string): void => writeLine({ progress: text }) : silentSink;
    const result = await withEnv(env, () => withProgressSink(sink, () => matched.route.handle(routeCtx)), abort.signal);
    if (ndjson) {
      // Always a last line, streams too: the CLI's HTTP/1.0 answer has no other framing, so an
      // answer without one is an orchestrator that went away (src/api/unix-http.ts). Only the
      // output the CLI asked to have rendered (PRINT_HEADER) follows it, its length announced.
      const printed = req.headers[PRINT_HEADER] === 'json' ? matched.route.printed : undefined;
      if (printed) {
        const bytes = Buffer.from(jsonText(printed(result)), 'utf8');
        writeLine({ result: null, printed: bytes.length });
        res.end(bytes);
      } else {
        writeLine({ result: result ?? null });
        res.end();
      }
    } else if (!res.headersSent) sendJson(res, 200, result);
    else res.end();
  } catch (err) {
    const e = wireError(err);
    if (e.code === 'INTERNAL') deps.log.error('internal error', { route: matched.route.path, error: err instanceof Error ? err.stack : String(err) });
    if (ndjson || res.headersSent) {
      writeLine({ error: e });
      res.end();
    } else sendJson(res, httpStatusFor(e.code), { error: e });
  } finally {
    if (typeof rid === 'string') deps.inflight.delete(rid);
  }
}
