import type { AgentConfig, AgentName } from '../config/schema.js';

export interface AgentContext {
  sessionId: string;
  workspace: string;
  config: AgentConfig;
  rules?: string;
  prompt?: string;
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

/** A plugin slot: found through the registry in ./index.ts by name. */
export interface AgentPlugin {
  readonly name: AgentName;
  /** The program that must be installed on the host (checked before spawning). */
  program(config: AgentConfig): string | undefined;
  launch(ctx: AgentContext): AgentLaunch;
}
