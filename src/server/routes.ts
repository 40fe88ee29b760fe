/**
 * The HTTP API under /api/v1: one table of routes, each with its zod schemas (validation
 * here, OpenAPI in src/api/openapi.ts) and a handler that calls the same InProcessApi the
 * CLI uses with --no-server, so both give identical results.
 */
import type { z } from 'zod';
import type { DashboardLogin, EnnioApi, ProjectJson } from '../api/contract.js';
import type { Caller } from '../cli/context.js';
import type { EnnioConfig } from '../config/schema.js';
import { probeHosts } from '../services/host-probe.js';
import type { PooledContext } from './contexts.js';
import * as s from '../api/schemas.js';
import { EnnioError } from '../core/errors.js';

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The caller's API (its config and environment). */
  api(): EnnioApi;
  /** The caller's config, session manager and backends. */
  context(): PooledContext;
  caller: Caller;
  /** Sessions from the latest sweep (or checked now). */
  list(project: string | undefined): Promise<{ sessions: unknown[]; checked_at: string }>;
  /** A session's info, its status from the latest sweep like list (or checked now). */
  info(id: string): Promise<unknown>;
  /** Runs a change to sessions: no status is answered from a sweep older than its end. */
  mutation<T>(run: () => Promise<T>): Promise<T>;
  signal: AbortSignal;
  /** Stream lines of output (NDJSON {text}) until the client goes away. */
  stream(onText: (write: (text: string) => void, notice: (text: string) => void) => Promise<void>): Promise<void>;
  server: ServerFacts;
}

export interface ServerFacts {
  health(): z.infer<typeof s.healthSchema>;
  /** A dashboard URL with a one-time login token for `caller` (starts listening on TCP if needed). */
  dashboardLogin(caller: Caller, config: EnnioConfig): Promise<DashboardLogin>;
  status(): z.infer<typeof s.serverStatusSchema>;
  stop(): void;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI-style path: /api/v1/sessions/{id} */
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: Record<string, z.ZodType>;
  response: z.ZodType;
  /** Needs a caller context (a config); server-only routes do not. */
  needsConfig: boolean;
  /** Answered only on the Unix socket (only this user can reach it). */
  unixOnly?: boolean;
  /** What `--json` prints of the result, when the CLI asks the orchestrator to render it (wire.ts, PRINT_HEADER). */
  printed?: (result: unknown) => unknown;
  /** Answered as a stream (NDJSON lines or SSE), not one JSON value. */
  streaming?: 'ndjson' | 'sse';
  handle(ctx: RouteContext): Promise<unknown>;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
  throw new EnnioError('INVALID_ARGUMENT', `invalid ${what}: ${issues}`);
}

const lines = (q: URLSearchParams): number => parse(s.linesQuery, q.get('lines') ?? undefined, 'lines (a whole number from 1 to 100000)');

export const ROUTES: Route[] = [
  {
    method: 'GET', path: '/api/v1/health', summary: 'Liveness of the orchestrator', response: s.healthSchema, needsConfig: false,
    handle: async (c) => c.server.health(),
  },
  {
    method: 'GET', path: '/api/v1/server', summary: 'Orchestrator status: pid, uptime, hosts, sweeps', response: s.serverStatusSchema, needsConfig: false,
    handle: async (c) => c.server.status(),
  },
  {
    method: 'POST', path: '/api/v1/server/stop', summary: 'Stop the orchestrator (sessions keep running)', response: s.healthSchema, needsConfig: false,
    handle: async (c) => {
      const h = c.server.health();
      setImmediate(() => c.server.stop());
      return h;
    },
  },
  {
    method: 'GET', path: '/api/v1/sessions', summary: 'Sessions with their checked status', query: { project: s.spawnRequest.shape.project.optional() },
    response: s.listSchema, needsConfig: true,
    handle: (c) => c.list(c.query.get('project') ?? undefined),
    printed: (r) => (r as { sessions: unknown[] }).sessions,
  },
  {
    method: 'POST', path: '/api/v1/sessions', summary: 'Spawn a session', body: s.spawnRequest, response: s.sessionSchema, needsConfig: true,
    handle: (c) => c.mutation(() => c.api().spawn(parse(s.spawnRequest, c.body, 'spawn request'))),
  },
  {
    method: 'GET', path: '/api/v1/sessions/{id}', summary: 'Everything known about a session', response: s.sessionInfoSchema, needsConfig: true,
    handle: (c) => c.info(c.params['id']!),
  },
  {
    method: 'DELETE', path: '/api/v1/sessions/{id}', summary: 'Kill a session (its branch and record are kept)', response: s.sessionSchema, needsConfig: true,
    handle: (c) => c.mutation(() => c.api().kill(c.params['id']!)),
  },
  {
    method: 'POST', path: '/api/v1/sessions/{id}/send', summary: 'Type a message into a session and submit it', body: s.sendRequest, response: s.sendResult, needsConfig: true,
    handle: (c) => c.api().send(c.params['id']!, parse(s.sendRequest, c.body, 'send request').message),
  },
  {
    method: 'GET', path: '/api/v1/sessions/{id}/output', summary: 'Recent output of a session (follow=1 streams NDJSON {text} lines)',
    query: { lines: s.linesQuery, follow: s.cleanupRequest.shape.purge.optional() }, response: s.outputResult, needsConfig: true,
    handle: async (c) => {
      const id = c.params['id']!;
      const n = lines(c.query);
      if (c.query.get('follow') !== '1' && c.query.get('follow') !== 'true') return c.api().output(id, n);
      await c.stream((write, notice) => c.api().follow(id, n, write, c.signal, notice));
      return undefined;
    },
  },
  {
    method: 'POST', path: '/api/v1/sessions/{id}/restore', summary: 'Relaunch the agent of an exited or killed session', response: s.sessionSchema, needsConfig: true,
    handle: (c) => c.mutation(() => c.api().restore(c.params['id']!)),
  },
  {
    method: 'GET', path: '/api/v1/sessions/{id}/attach', summary: 'The command that attaches a terminal to the session', response: s.attachResult, needsConfig: true,
    handle: async (c) => ({ argv: await c.api().attachArgv(c.params['id']!) }),
  },
  {
    method: 'POST', path: '/api/v1/wait', summary: 'Block until sessions reach an activity (idle, waiting_input, exited, any)', body: s.waitRequest, response: s.waitResult, needsConfig: true,
    handle: (c) => c.api().wait(parse(s.waitRequest, c.body, 'wait request')),
  },
  {
    method: 'POST', path: '/api/v1/cleanup', summary: 'Kill sessions whose agent exited; purge forgets killed ones', body: s.cleanupRequest, response: s.cleanupResult, needsConfig: true,
    handle: (c) => c.mutation(() => c.api().cleanup(parse(s.cleanupRequest, c.body ?? {}, 'cleanup request').purge)),
  },
  {
    method: 'GET', path: '/api/v1/nodes', summary: "Node projects and their daemon's state (never starts one)", response: s.nodeList, needsConfig: true,
    handle: (c) => c.api().nodes(),
  },
  {
    method: 'GET', path: '/api/v1/nodes/{target}', summary: 'The daemon of a project or host (does not start it)', response: s.nodeList, needsConfig: true,
    handle: (c) => c.api().nodeStatus(c.params['target']!),
  },
  {
    method: 'POST', path: '/api/v1/nodes/{project}/connect', summary: 'Deploy/upgrade and start the daemon if needed, then check its health', response: s.nodeConnectResult, needsConfig: true,
    handle: (c) => c.api().nodeConnect(c.params['project']!),
  },
  {
    method: 'POST', path: '/api/v1/nodes/{project}/disconnect', summary: 'Close the tunnel; with shutdown, stop the daemon', body: s.nodeDisconnectRequest, response: s.nodeDisconnectResult, needsConfig: true,
    handle: (c) => c.api().nodeDisconnect(c.params['project']!, parse(s.nodeDisconnectRequest, c.body ?? {}, 'disconnect request').shutdown),
  },
  {
    method: 'GET', path: '/api/v1/projects', summary: 'The projects of the config (the spawn form)', response: s.projectsSchema, needsConfig: true,
    handle: async (c) => ({ projects: projectsOf(c.context().config) }),
  },
  {
    method: 'GET', path: '/api/v1/hosts', summary: 'Hosts of the config: reachable, round trip, ennio-node version and uptime', response: s.hostsSchema, needsConfig: true,
    handle: async (c) => ({ hosts: await probeHosts(c.context().config, c.context().backends) }),
  },
  {
    method: 'POST', path: '/api/v1/dashboard/login', summary: 'A dashboard URL with a one-time login token (Unix socket only)', response: s.dashboardLoginSchema,
    needsConfig: true, unixOnly: true,
    handle: (c) => c.server.dashboardLogin(c.caller, c.context().config),
  },
];

function projectsOf(config: EnnioConfig): ProjectJson[] {
  return config.projects.map((p) => ({
    name: p.name,
    agent: p.agent ?? config.defaults.agent,
    host: p.ssh_config ? p.ssh_config.host : 'local',
    backend: p.ssh_config ? `ssh:${p.ssh_config.strategy}` : 'local',
    default_branch: p.default_branch,
  }));
}

/** The route for a method and path, with its path parameters. */
export function matchRoute(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(`^${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`);
    const m = pattern.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
    return { route, params };
  }
  return undefined;
}
