/**
 * What the session manager needs from wherever a project runs. A Backend bundles a
 * Host (for symlinks, post_create, attach), a workspace provider and a runtime.
 * Local, SSH-tmux, tmate and remote_control backends run src/ops/* through a Host;
 * the node backend sends the same requests to ennio-node over gRPC.
 */
import type { Host } from '../host/host.js';
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

export interface Runtime {
  readonly name: string;
  /** A runtime that launches its own program (remote_control) names it, for the install check. */
  readonly requiredProgram?: string;
  /** True when the runtime ignores the agent's command line, so the prompt must be typed in. */
  readonly typesPrompt?: boolean;
  /** False for runtimes with no input channel (process): send is refused whatever the state. */
  readonly acceptsMessages?: boolean;
  create(spec: LaunchSpec): Promise<RuntimeHandle>;
  /** Stop the agent; a runtime that is already gone is not an error. */
  destroy(handle: RuntimeHandle): Promise<void>;
  /** Type the message and submit it. */
  send(handle: RuntimeHandle, message: string): Promise<void>;
  /** The last `lines` lines of output. */
  output(handle: RuntimeHandle, lines: number): Promise<string>;
  /** Checked against the real process/pane, never assumed. */
  liveness(handle: RuntimeHandle): Promise<Liveness>;
  /** Extra facts for `session info` (share URLs, remote-control URL…). */
  info?(handle: RuntimeHandle): Promise<Record<string, string>>;
  /** argv of an interactive command (run with inherited stdio) that attaches to the session. */
  attachArgv(handle: RuntimeHandle): Promise<string[]>;
  /** The tmux pane the agent draws in, when there is one: activity reads its screen (src/activity). */
  screenTarget?(handle: RuntimeHandle): ScreenTarget;
  /** For runtimes without a tmux pane: when the output last changed, and its last lines when asked. */
  outputActivity?(handle: RuntimeHandle, withText: boolean): Promise<{ changedAt: number; text?: string }>;
}

export interface ScreenTarget {
  server: TmuxServer;
  session: string;
}

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
