/**
 * Request and response schemas of the HTTP API (zod). The server validates requests with
 * them and `ennio api schema` derives the OpenAPI document from them; src/api/contract.ts
 * holds the matching plain types for the thin client, which must not load zod.
 */
import { z } from 'zod';
import { ACTIVITIES } from '../activity/types.js';

const sessionId = z.string().min(1).max(128).describe('Session id, e.g. app-1a2b3c');

export const sessionSchema = z.looseObject({
  id: sessionId,
  project: z.string(),
  status: z.enum(['spawning', 'running', 'exited', 'killed', 'failed']),
  agent: z.string(),
  runtime_name: z.string(),
  backend: z.string().describe("'local', 'ssh:tmux', 'ssh:tmate', 'ssh:remote_control', 'ssh:node'"),
  host: z.string(),
  branch: z.string(),
  workspace_path: z.string(),
  workspace_type: z.enum(['worktree', 'clone']),
  repo_path: z.string(),
  prompt: z.string().nullable(),
  issue: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  exit_code: z.number().int().nullable(),
  info: z.unknown(),
  activity: z.enum(ACTIVITIES).describe('What the agent is doing: working, waiting_input (it needs you), idle (its turn is over), exited, unknown'),
  activity_since: z.string().describe('When it entered that activity (ISO 8601)'),
  agent_session_id: z.string().nullable().describe("The agent's own conversation id; restore continues it"),
  unreachable: z.string().optional().describe('Why the host could not be reached; the status shown is the last one known.'),
});

export const eventSchema = z.object({
  id: z.number().int(),
  session_id: z.string(),
  type: z.string(),
  detail: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});

export const sessionInfoSchema = sessionSchema.extend({
  runtime_info: z.record(z.string(), z.string()),
  events: z.array(eventSchema),
});

export const listSchema = z.object({ sessions: z.array(sessionSchema), checked_at: z.string() });

export const spawnRequest = z.strictObject({
  project: z.string().min(1),
  prompt: z.string().optional(),
  branch: z.string().optional(),
  issue: z.string().optional(),
  agent: z.string().optional(),
});

export const sendRequest = z.strictObject({ message: z.string() });
export const sendResult = z.object({ id: z.string(), sent: z.literal(true), bytes: z.number().int() });
export const outputResult = z.object({ id: z.string(), lines: z.number().int(), output: z.string() });
export const cleanupRequest = z.strictObject({ purge: z.boolean().default(false) });
export const cleanupResult = z.object({ killed: z.array(z.string()), purged: z.array(z.string()) });
export const attachResult = z.object({ argv: z.array(z.string()) });
/** Node rows carry the daemon's heartbeat when reachable, else why not: described loosely on purpose. */
const nodeRow = z.object({ project: z.string(), state: z.string() }).catchall(z.unknown());
export const nodeList = z.array(nodeRow);
export const nodeConnectResult = z.object({ project: z.string(), target: z.string(), deployed: z.boolean(), heartbeat: z.record(z.string(), z.unknown()) });
export const nodeDisconnectRequest = z.strictObject({ shutdown: z.boolean().default(false) });
export const nodeDisconnectResult = z.object({ project: z.string(), target: z.string(), stopped: z.boolean(), idleTimeoutSecs: z.number() });

export const waitRequest = z.strictObject({
  ids: z.array(sessionId).min(1),
  for: z.enum(['idle', 'waiting_input', 'exited', 'any']).default('any').describe('any = the agent stopped working: idle, waiting_input or exited'),
  timeout: z.number().positive().optional().describe('Seconds; error TIMEOUT (HTTP 408) when they pass first'),
});
export const waitResult = z.object({
  sessions: z.array(z.object({ id: z.string(), activity: z.enum(ACTIVITIES), activity_since: z.string() })),
});

export const errorSchema = z.object({
  error: z.object({ code: z.string().describe('Stable code, e.g. UNKNOWN_SESSION'), message: z.string(), hint: z.string().optional() }),
});

export const healthSchema = z.object({ ok: z.literal(true), version: z.string(), build: z.string(), pid: z.number().int() });

export const serverStatusSchema = z.object({
  pid: z.number().int(),
  version: z.string(),
  build: z.string(),
  started_at: z.string(),
  uptime_s: z.number(),
  socket: z.string(),
  port: z.union([z.number().int(), z.string()]).describe('The TCP port, or why there is none'),
  configs: z.array(z.string()),
  hosts: z.array(z.object({
    host: z.string(),
    state: z.string(),
    detail: z.string().optional(),
    commands: z.number().int().optional().describe('Commands run on this SSH connection since the orchestrator started (sweeps: one per host each)'),
    connects: z.number().int().optional().describe('Times the connection was established (1 = never lost)'),
  })),
  sessions_watched: z.number().int(),
  sweeps: z.number().int().describe('Sweeps completed since the orchestrator started'),
  last_sweep: z.string().nullable(),
  last_sweep_ms: z.number().nullable(),
  sweep_interval_ms: z.number(),
  idle_exit_ms: z.number(),
});

export const linesQuery = z.coerce.number().int().min(1).max(100_000).default(50);

export const projectsSchema = z.object({
  projects: z.array(z.object({ name: z.string(), agent: z.string(), host: z.string(), backend: z.string(), default_branch: z.string() })),
});

export const hostsSchema = z.object({
  hosts: z.array(z.object({
    host: z.string(),
    backend: z.string(),
    projects: z.array(z.string()),
    reachable: z.boolean(),
    rtt_ms: z.number().nullable().describe('Round trip of one command on the warm connection (remote hosts)'),
    node: z.string().optional().describe('ennio-node: running, not-running, …'),
    node_version: z.string().optional(),
    node_uptime_s: z.number().optional(),
    detail: z.string().optional(),
    checked_at: z.string(),
  })),
});

export const dashboardLoginSchema = z.object({ url: z.string(), expires_at: z.string() });
