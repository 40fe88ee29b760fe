/**
 * What the session manager needs from wherever a project runs. A Backend bundles a
 * Host (for symlinks, post_create, attach), a workspace provider and a runtime.
 * Local, SSH-tmux, tmate and remote_control backends run src/ops/* through a Host;
 * the node backend sends the same requests to ennio-node over gRPC.
 */
import type { ActivityAsk, ActivitySeen } from '../activity/probe.js';
import type { Host } from '../host/host.js';
import type { HostProbe, ProbeResult } from '../ops/host-probes.js';
import type { Liveness, TmuxServer } from '../ops/tmux.js';
import type { WorkspaceResult, WorkspaceSpec } from '../ops/git-workspace.js';

/** Opaque to the session manager: it stores `data` and hands it back, never looks inside. */
export interface RuntimeHandle {
  id: string;
  runtimeName: string;
  data: Record<string, string>;
}

export interface LaunchSpec {
  sessionId: string;
  /** tmux session name (validated: letters, digits, - and _). */
  name: string;
  cwd: string;
  env: Record<string, string>;
  /** Program and arguments (argv). */
  command: readonly string[];
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/**
 * A live view of a session's terminal: first the whole screen (with scrollback, colours,
 * cursor), then every byte its program writes; keys and pastes go the other way.
 */
export interface TerminalStream {
  /** Terminal bytes. After a `size`, the next bytes redraw the whole screen at that size. */
  onOutput(listener: (bytes: Buffer) => void): void;
  /** The pane's size: the viewer's terminal must have exactly this size. */
  onSize(listener: (size: TerminalSize) => void): void;
  /** Once, when the stream ended (session killed, link lost, closed), with why. */
  onEnd(listener: (why: string) => void): void;
  /** Keys typed, as the terminal encodes them. */
  keys(text: string): void;
  /** Pasted text (bracketed paste when the program asked for it). */
  paste(text: string): void;
  /** The viewer's terminal size; the pane follows it. */
  resize(size: TerminalSize): void;
  close(): void;
}

export interface Runtime {
  readonly name: string;
  /** A runtime that launches its own program (remote_control) names it, for the install check. */
  readonly requiredProgram?: string;
  /** True when the runtime ignores the agent's command line, so the prompt must be typed in. */
  readonly typesPrompt?: boolean;
  /** False for runtimes with no input channel (process): send is refused whatever the state. */
  readonly acceptsMessages?: boolean;
  create(spec: LaunchSpec): Promise<RuntimeHandle>;
  /**
   * The handle of whatever `create` started for the session `sessionId` (spawns name the
   * runtime after the session id), found without a recorded handle: a spawner killed -9
   * between starting the agent and recording its handle leaves only the id behind, and
   * `session cleanup` must still stop that agent. Undefined when nothing of it can exist.
   */
  handleFor(sessionId: string): Promise<RuntimeHandle | undefined>;
  /** Stop the agent; a runtime that is already gone is not an error. */
  destroy(handle: RuntimeHandle): Promise<void>;
  /**
   * Type the message and submit it. Checks liveness first and refuses a session that is
   * not running with SESSION_STATE before typing anything (SessionManager.send relies on it).
   */
  send(handle: RuntimeHandle, message: string): Promise<void>;
  /** The last `lines` lines of output. */
  output(handle: RuntimeHandle, lines: number): Promise<string>;
  /** Checked against the real process/pane, never assumed. */
  liveness(handle: RuntimeHandle): Promise<Liveness>;
  /**
   * How a sweep checks many sessions of this runtime at once (src/lifecycle/sweep.ts).
   * Without one, a sweep asks `liveness` per session.
   */
  readonly sweeper?: RuntimeSweeper;
  /** Extra facts for `session info` (share URLs, remote-control URL…). */
  info?(handle: RuntimeHandle): Promise<Record<string, string>>;
  /** argv of an interactive command (run with inherited stdio) that attaches to the session. */
  attachArgv(handle: RuntimeHandle): Promise<string[]>;
  /** Facts about what runs on the host for this runtime (ennio-node's version and uptime), for the hosts panel. */
  hostFacts?(): Promise<Record<string, string>>;
  /** The session's terminal, streamed (the dashboard). Runtimes without a terminal leave it out. */
  openTerminal?(handle: RuntimeHandle, size: TerminalSize): Promise<TerminalStream>;
  /** The tmux pane the agent draws in, when there is one: activity reads its screen (src/activity). */
  screenTarget?(handle: RuntimeHandle): ScreenTarget;
  /** For runtimes without a tmux pane: when the output last changed, and its last lines when asked. */
  outputActivity?(handle: RuntimeHandle, withText: boolean): Promise<{ changedAt: number; text?: string }>;
}

export interface ScreenTarget {
  server: TmuxServer;
  session: string;
}

/** What a sweep learns about one session. */
export interface RuntimeStatus {
  state: Liveness;
  /** The agent's exit status, when it exited and the runtime kept it. */
  exitCode?: number;
  /** The program in the foreground (e.g. `node`), when the runtime says. */
  currentCommand?: string;
  /** Last output activity (ms since epoch), when the runtime says. */
  activityAt?: number;
  /** What a batch sweeper read for the agent's activity, when it was asked and could (ennio-node). */
  activity?: ActivitySeen;
}

/**
 * Sessions checked by commands on their host: every session whose probe has the same key
 * (one tmux server) shares one probe, and all probes of a host run as ONE command
 * (src/ops/host-probes.ts), together with probes other features register for that host.
 */
export interface HostProbeSweeper {
  readonly kind: 'host-probe';
  readonly host: Host;
  probeFor(handle: RuntimeHandle): HostProbe;
  /** The session's status from its probe's result; throws when the probe failed. */
  statusOf(handle: RuntimeHandle, result: ProbeResult): RuntimeStatus;
}

/** Sessions checked by one batched call per `key` (one ennio-node: ListRuntimes). */
export interface BatchSweeper {
  readonly kind: 'batch';
  /** Sessions with the same key go into one call; also names the endpoint for reconnect backoff. */
  keyOf(handle: RuntimeHandle): string;
  /** A label for messages and `server status` (e.g. the node's host). */
  readonly label: string;
  /**
   * The status of each handle by handle id, or why that one could not be checked; rejects
   * when the endpoint could not be asked at all. `activity` (by handle id): what the
   * activity tracker wants read in the same call; answered in RuntimeStatus.activity by an
   * endpoint that can (an older ennio-node cannot: the tracker then probes over SSH).
   */
  check(handles: readonly RuntimeHandle[], activity?: ReadonlyMap<string, ActivityAsk>): Promise<Map<string, RuntimeStatus | Error>>;
}

export type RuntimeSweeper = HostProbeSweeper | BatchSweeper;

export interface WorkspaceProvider {
  create(spec: WorkspaceSpec): Promise<WorkspaceResult>;
  remove(spec: Pick<WorkspaceSpec, 'type' | 'repoPath' | 'workspacePath'>): Promise<void>;
  deleteBranch(repoPath: string, branch: string): Promise<void>;
  /** Where workspaces of this project live on its host (absolute). */
  workspaceRoot(project: string): Promise<string>;
}

export interface Backend {
  /** 'local', 'ssh:tmux', 'ssh:tmate', 'ssh:remote_control', 'ssh:node'. */
  readonly kind: string;
  readonly host: Host;
  readonly workspaces: WorkspaceProvider;
  readonly runtime: Runtime;
  /** Ennio's own directory on the host (may start with ~): hook script and activity state files live there. */
  readonly dataDir: string;
}
