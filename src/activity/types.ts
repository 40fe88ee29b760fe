/**
 * What ennio says an agent is doing, and the evidence it says it from. Light on purpose:
 * the thin CLI (wait, the ACTIVITY column) imports it.
 */

export const ACTIVITIES = ['working', 'waiting_input', 'idle', 'exited', 'unknown'] as const;
/**
 * - working: the agent is busy with a turn (model, tools, subagents).
 * - waiting_input: it asks something (a permission prompt, a question): it needs you.
 * - idle: it finished its turn and waits for the next message.
 * - exited: its process is gone.
 * - unknown: no evidence either way (no hook yet, or hooks went silent and the screen cannot tell).
 */
export type Activity = (typeof ACTIVITIES)[number];

/** One line of a session's state file: an agent hook fired. */
export interface HookEvent {
  /** When the hook ran (ms since the epoch, the host's clock). */
  at: number;
  /** Claude Code's hook_event_name (Stop, Notification…), or codex's notify type (agent-turn-complete). */
  event: string;
  /** Notification hooks: permission_prompt, idle_prompt, elicitation_dialog… */
  notificationType?: string;
  /** The agent's own conversation id (claude's session_id, codex's thread-id). */
  agentSessionId?: string;
}

/** What an agent plugin reads on a screen with its patterns; undefined when it cannot tell. */
export type ScreenReading = 'working' | 'waiting_input' | 'idle' | undefined;

export interface ScreenEvidence {
  /** When the output last changed (ms since the epoch). */
  changedAt: number;
  /** What the screen shows, when its text was read. */
  reading?: ScreenReading;
}

/** How much of an agent's activity its hooks report. */
export type HookCoverage =
  /** Every turn start and end, tool use and prompt (Claude Code): the hooks decide, the screen corrects. */
  | 'full'
  /** Only the end of a turn (codex's notify): the screen decides, the hook ends a turn at once. */
  | 'turn_end'
  /** No hooks (aider, opencode, custom): the screen alone. */
  | 'none';

/** The classifier's result, kept between observations. */
export interface ActivityState {
  activity: Activity;
  /** When it entered that activity (ms since the epoch). */
  since: number;
  /** When the last hook fired (ms since the epoch). */
  hookAt?: number;
  /**
   * Spawned with a prompt that no hook has shown taken yet. Claude Code fires SessionStart
   * (which looks idle) before the prompt's UserPromptSubmit, and its input box sits quiet
   * while it loads: until a hook of the turn arrives (or the staleness rule lapses it), the
   * session is working on that prompt, so `ennio wait --for idle` waits for the turn.
   */
  promptPending?: boolean;
}
