/**
 * The one interface every client speaks. The CLI uses it in-process (--no-server) or over
 * the orchestrator's Unix socket; the dashboard and other tools over HTTP. Types only: the
 * thin client imports this file without loading zod, SQLite or ssh2.
 */
import type { ConnectResult, DisconnectResult, NodeListRow, NodeStatus } from '../services/node-manager.js';

export type NodeConnectJson = Omit<ConnectResult, 'forward'>;
export type { DisconnectResult as NodeDisconnectJson, NodeListRow as NodeListJson, NodeStatus as NodeStatusJson };

import type { Activity } from '../activity/types.js';

/** A session as clients see it: the store record without the opaque runtime handle. */
export interface SessionJson {
  id: string;
  project: string;
  status: 'spawning' | 'running' | 'exited' | 'killed' | 'failed';
  agent: string;
  runtime_name: string;
  backend: string;
  host: string;
  branch: string;
  workspace_path: string;
  workspace_type: 'worktree' | 'clone';
  repo_path: string;
  prompt: string | null;
  issue: string | null;
  created_at: string;
  updated_at: string;
  exit_code: number | null;
  info: unknown;
  /** What the agent is doing: working, waiting_input (it needs you), idle, exited, unknown. */
  activity: Activity;
  /** When it entered that activity (ISO 8601). */
  activity_since: string;
  /** The agent's own conversation id (claude's session_id), used by restore to continue it. */
  agent_session_id: string | null;
  /** Set when the host could not be reached: the status shown is the last one known. */
  unreachable?: string;
  [extra: string]: unknown;
}

export interface EventJson {
  id: number;
  session_id: string;
  type: string;
  detail: Record<string, unknown>;
  created_at: string;
}

export interface SessionInfoJson extends SessionJson {
  runtime_info: Record<string, string>;
  events: EventJson[];
}

export interface SpawnRequest {
  project: string;
  prompt?: string;
  branch?: string;
  issue?: string;
  agent?: string;
}

export interface SendResult {
  id: string;
  sent: true;
  bytes: number;
}

export interface OutputResult {
  id: string;
  lines: number;
  output: string;
}

export interface CleanupResult {
  killed: string[];
  purged: string[];
}

/** What `wait` waits for: one activity, or `any` = the agent stopped working (idle, waiting_input or exited). */
export type WaitFor = 'idle' | 'waiting_input' | 'exited' | 'any';

export interface WaitRequest {
  ids: string[];
  for: WaitFor;
  /** Seconds; absent = no limit. */
  timeout?: number;
}

export interface WaitResult {
  sessions: Array<{ id: string; activity: Activity; activity_since: string }>;
}

export interface ListResult {
  sessions: SessionJson[];
  /** When the statuses were checked (ISO 8601): the latest sweep, or now. */
  checked_at: string;
}

/** A configured project, as the dashboard's spawn form needs it. */
export interface ProjectJson {
  name: string;
  agent: string;
  /** 'local' or the SSH host it runs on. */
  host: string;
  /** 'local', 'ssh:tmux', 'ssh:tmate', 'ssh:remote_control', 'ssh:node'. */
  backend: string;
  default_branch: string;
}

/** A host the config's projects run on, as last probed. */
export interface HostJson {
  host: string;
  backend: string;
  projects: string[];
  reachable: boolean;
  /** Round trip of a command on the warm connection (remote hosts). */
  rtt_ms: number | null;
  /** ennio-node: running / not-running / …, with version and uptime when it answers. */
  node?: string;
  node_version?: string;
  node_uptime_s?: number;
  /** Why it is unreachable (or the node's problem). */
  detail?: string;
  checked_at: string;
}

/** What `ennio dashboard` gets: the URL with a one-time login token. */
export interface DashboardLogin {
  url: string;
  expires_at: string;
}

export interface EnnioApi {
  spawn(req: SpawnRequest): Promise<SessionJson>;
  list(project?: string): Promise<ListResult>;
  info(id: string): Promise<SessionInfoJson>;
  send(id: string, message: string): Promise<SendResult>;
  output(id: string, lines: number): Promise<OutputResult>;
  /** Print new output as it comes, until `signal` aborts; `onNotice` hears about a cut link and its recovery. */
  follow(id: string, lines: number, onText: (text: string) => void, signal: AbortSignal, onNotice?: (text: string) => void): Promise<void>;
  attachArgv(id: string): Promise<string[]>;
  kill(id: string): Promise<SessionJson>;
  restore(id: string): Promise<SessionJson>;
  cleanup(purge: boolean): Promise<CleanupResult>;
  /**
   * Until every session reached the activity (TIMEOUT when `timeout` passes first; SESSION_STATE
   * when one exits while waiting for idle or waiting_input). A state entered before the last
   * message sent to a session does not count: that message has not been taken up yet.
   */
  wait(req: WaitRequest): Promise<WaitResult>;
  /** Node projects with their daemon's state (never starts a daemon). */
  nodes(): Promise<NodeListRow[]>;
  /** The daemon of a project or host (does not start it). */
  nodeStatus(target: string): Promise<NodeStatus[]>;
  /** Deploy/upgrade and start the daemon if needed, then check its health. */
  nodeConnect(project: string): Promise<NodeConnectJson>;
  /** Close the tunnel; with shutdown, stop the daemon. */
  nodeDisconnect(project: string, shutdown: boolean): Promise<DisconnectResult>;
  close(): Promise<void>;
}

/** What the `ennio node` commands use. */
export type NodeApi = Pick<EnnioApi, 'nodes' | 'nodeStatus' | 'nodeConnect' | 'nodeDisconnect'>;

/** How errors cross the wire; `code` is one of src/core/errors.ts ErrorCode. */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
}
