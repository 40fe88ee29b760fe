/**
 * One request → one route, in the caller's scope. On the Unix socket (0600, so only this
 * user) requests carry the caller's cwd, environment and config; on TCP every request
 * needs the bearer token and runs with the orchestrator's default caller.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnnioApi, WireError } from '../api/contract.js';
import { InProcessApi, publicSession } from '../api/in-process.js';
import { BUILD_HEADER, CALLER_HEADER, decodeCaller, httpStatusFor, NDJSON, REQUEST_ID_HEADER } from '../api/wire.js';
import type { Caller } from '../cli/context.js';
import { EnnioError } from '../core/errors.js';
import { silentSink, withProgressSink } from '../core/progress.js';
import { withEnv } from '../core/request-env.js';
import type { ContextPool, PooledContext } from './contexts.js';
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './log.js';
import { matchRoute, type RouteContext, type ServerFacts } from './routes.js';
import { serveEvents } from './sse.js';
import type { EventRepo } from '../store/events.js';

const MAX_BODY = 32 * 1024 * 1024;

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
}

function wireError(err: unknown): WireError {
  if (err instanceof EnnioError) return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new EnnioError('INVALID_ARGUMENT', `request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        reject(new EnnioError('INVALID_ARGUMENT', 'the request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Constant-time comparison of SHA-256 digests: no timing hint about the token. */
function tokenMatches(header: string | undefined, digest: Buffer | undefined): boolean {
  if (!digest || !header?.startsWith('Bearer ')) return false;
  const given = createHash('sha256').update(header.slice('Bearer '.length)).digest();
  return timingSafeEqual(given, digest);
}

export function createHandler(deps: HandlerDeps, transport: 'unix' | 'tcp'): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    deps.touch();
    void handle(deps, transport, req, res).catch((err: unknown) => {
      deps.log.error('request failed', { path: req.url?.split('?')[0], error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) sendJson(res, 500, { error: wireError(err) });
      else res.end();
    });
  };
}

async function handle(deps: HandlerDeps, transport: 'unix' | 'tcp', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://ennio');
  if (transport === 'tcp' && !tokenMatches(req.headers.authorization, deps.tokenDigest())) {
    res.setHeader('www-authenticate', 'Bearer');
    return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong API token', hint: 'send Authorization: Bearer <api_token>' } });
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
  const callerHeader = req.headers[CALLER_HEADER];
  let caller: Caller;
  try {
    caller = transport === 'unix' && typeof callerHeader === 'string' ? decodeCaller(callerHeader) : deps.defaultCaller();
  } catch {
    return sendJson(res, 400, { error: { code: 'INVALID_ARGUMENT', message: `malformed ${CALLER_HEADER} header` } });
  }
  if (url.pathname === '/api/v1/events' && req.method === 'GET') {
    deps.streams.count++;
    res.on('close', () => deps.streams.count--);
    return serveEvents(deps.events, req, res, url);
  }
  const matched = matchRoute(req.method ?? 'GET', url.pathname);
  if (!matched) {
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}`, hint: 'see `ennio api schema` for the API' } });
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
    const body = req.method === 'GET' ? undefined : await readBody(req);
    let pooled: PooledContext | undefined;
    const ctxOf = (): PooledContext => (pooled ??= deps.pool.get(caller));
    if (matched.route.needsConfig) ctxOf(); // config errors surface before anything runs
    let api: EnnioApi | undefined;
    const routeCtx: RouteContext = {
      params: matched.params,
      query: url.searchParams,
      body,
      api: () => (api ??= new InProcessApi(ctxOf())),
      list: async (project) => {
        const r = await deps.lifecycle.list(ctxOf(), project);
        return { sessions: r.sessions.map(publicSession), checked_at: new Date(r.at).toISOString() };
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
      if (result !== undefined) writeLine({ result });
      res.end();
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
