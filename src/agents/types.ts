import type { AgentConfig, AgentName } from '../config/schema.js';
import type { HookCoverage, ScreenReading } from '../activity/types.js';

/** Where this session's hook program and state file are, on the agent's host. */
export interface ActivityPaths {
  /** The hook script (src/activity/hook-script.ts), already installed. */
  hookScript: string;
  /** The session's state file the hook appends to. */
  stateFile: string;
}

export interface AgentContext {
  sessionId: string;
  workspace: string;
  config: AgentConfig;
  rules?: string;
  prompt?: string;
  activity?: ActivityPaths;
  /** The agent's own conversation id to continue (session restore). */
  resume?: string;
}

export interface AgentLaunch {
  /** argv run inside the runtime. */
  command: string[];
  /**
   * Text typed into the session as the first message once the program is up — for
   * CLIs that take no initial prompt on their command line.
   */
  typedPrompt?: string;
  /** Files to write into the workspace before launch (e.g. a rules file). */
  files?: Array<{ path: string; content: string }>;
}

/** Files of a workspace on the agent's host, for plugins that install hooks there. */
export interface WorkspaceFiles {
  /** The file's text, undefined when it does not exist. */
  read(relPath: string): Promise<string | undefined>;
  /** Replace the file (a symlink is replaced by a file, never written through). */
  write(relPath: string, content: string): Promise<void>;
  /** Keep the file out of git (the repository's info/exclude). */
  excludeFromGit(relPath: string): Promise<void>;
}

/** How an agent tells what it is doing (src/activity). */
export interface AgentActivity {
  hooks: HookCoverage;
  /** What a screen (the last lines of the agent's pane) shows, by this agent's own patterns. */
  readScreen(screen: string): ScreenReading;
  /** Install the agent's hooks in its workspace before launch. */
  installHooks?(files: WorkspaceFiles, paths: ActivityPaths): Promise<void>;
}

/** A plugin slot: found through the registry in ./index.ts by name. */
export interface AgentPlugin {
  readonly name: AgentName;
  /** The program that must be installed on the host (checked before spawning). */
  program(config: AgentConfig): string | undefined;
  launch(ctx: AgentContext): AgentLaunch;
  readonly activity: AgentActivity;
}
